//! The express company's week (DOMAIN.md §6): six complaints on the express policy.

#![allow(unreachable_pub)]

use crate::support::{Res, Run, Summary, expect, intake, staff};
use plaint::sla::ClockOutcome;
use plaint::{
    CategoryPath, Command, DocumentRef, Findings, Flag, InvalidReason, Money, Satisfaction,
    StageKind, Validity,
};

/// Runs the scenario on `store`; `quiet` suppresses printing (tests).
pub fn run(store: std::sync::Arc<dyn plaint::DynStore>, quiet: bool) -> Res<Summary> {
    let mut run = Run::new(
        store,
        include_str!("../policies/express.toml"),
        "2026-11-16 09:10",
        quiet,
    )?;
    let currency = run.engine.current_policy().currency;
    let cny = |minor| Money::new(minor, currency);
    let agent = staff("agent-wang", "agent");
    let investigator = staff("claims-liu", "investigator");
    let manager = staff("svc-mgr-chen", "service-manager");
    let gm = staff("gm-zhao", "general-manager");
    let finance = staff("fin-sun", "finance");
    let happy = |satisfied, score| Satisfaction {
        satisfied,
        score: Some(score),
        comment: None,
    };
    let findings = |text: &str| Findings {
        summary: text.into(),
        records: vec![],
    };
    let triage = |cat: &str, tier: Option<&str>| -> Res<Command> {
        Ok(Command::Triage {
            category: CategoryPath::parse(cat)?,
            tier: tier.map(|t| t.try_into()).transpose()?,
            validity: Validity::Valid,
        })
    };
    let route = Command::Route {
        responsibility: None,
    };
    let progress = |note: &str| Command::ReportProgress { note: note.into() };

    // 1. A lost camera (insured, declared 450 CNY), major: two rounds of negotiation, the
    //    general manager approves each compensation, a follow-up call, then closing.
    let mut i = intake(
        "cust-0042",
        "Li Si",
        "13900001111",
        "hotline",
        "Camera never arrived; tracking stops at the hub.",
    );
    i.subject.waybill = Some("YT9876543210".into());
    i.subject.declared_value = Some(cny(45_000));
    i.subject.insured = true;
    let received = run.receive("EXP-101", i, &agent)?.intake.received_at;
    let li = run.customer_of("EXP-101")?;
    // Triaged major 5 minutes after the call, before the acknowledgement: the acknowledgement
    // is now due 30 minutes after the first report, not an hour.
    run.after(5);
    let c = run.ok("EXP-101", triage("loss", Some("major"))?, &agent)?;
    let due = c.clock("acknowledge").and_then(|s| s.schedule.deadline);
    expect(
        due == Some(received + chrono::Duration::minutes(30)),
        "a major complaint is acknowledged within 30 minutes of the first report",
    )?;
    run.after(15);
    run.ok("EXP-101", Command::Acknowledge, &agent)?;
    run.after(30);
    run.ok("EXP-101", route.clone(), &agent)?;
    run.at("2026-11-16 16:30")?;
    run.ok("EXP-101", progress("The hub is checking its CCTV."), &agent)?;
    run.at("2026-11-17 10:05")?;
    run.ok(
        "EXP-101",
        Command::RecordFindings {
            findings: findings("Mis-sorted at hub 3 (CCTV)."),
            root_cause: Some(CategoryPath::parse("loss/in-transit")?),
        },
        &investigator,
    )?;
    let offer = |amount, text: &str| Command::Propose {
        remedy: "compensation".try_into().expect("key"),
        description: text.into(),
        amount: Some(amount),
    };
    run.after(60);
    run.ok(
        "EXP-101",
        offer(cny(30_000), "Standard-rate compensation"),
        &investigator,
    )?;
    run.refused("EXP-101", Command::Approve { note: None }, &manager)?; // compensation is the GM's (approve_when)
    run.after(40);
    run.ok("EXP-101", Command::Approve { note: None }, &gm)?;
    run.after(120);
    run.ok(
        "EXP-101",
        Command::RejectProposal {
            reason: Some("worth the full declared value".into()),
        },
        &li,
    )?;
    run.after(60);
    // Above the insured cap (the declared value) a proposal escalates; the GM declines it.
    run.ok(
        "EXP-101",
        offer(cny(50_000), "Declared value plus the postage"),
        &investigator,
    )?;
    run.after(30);
    run.ok(
        "EXP-101",
        Command::DeclineApproval {
            reason: "above the declared value".into(),
        },
        &gm,
    )?;
    run.ok(
        "EXP-101",
        offer(cny(45_000), "Full declared value (insured)"),
        &investigator,
    )?;
    run.after(45);
    run.ok("EXP-101", Command::Approve { note: None }, &gm)?;
    run.after(30);
    run.ok(
        "EXP-101",
        Command::AcceptProposal {
            agreement: Some(DocumentRef {
                reference: "agreements/EXP-101.pdf".into(),
                content_hash: None,
            }),
        },
        &li,
    )?;
    run.after(30);
    run.ok(
        "EXP-101",
        progress("Finance is paying the compensation."),
        &agent,
    )?;
    run.at("2026-11-18 12:30")?;
    run.ok(
        "EXP-101",
        Command::RecordExecution {
            action: "Paid 450.00 CNY".into(),
            reference: Some("PAY-77812".into()),
            finished: true,
        },
        &finance,
    )?;
    run.after(30);
    run.ok(
        "EXP-101",
        Command::GiveFeedback {
            text: "450.00 CNY has been paid.".into(),
        },
        &agent,
    )?;
    run.after(50);
    run.ok(
        "EXP-101",
        Command::RecordAction {
            action: "callback".try_into()?,
            note: Some("Called Li Si: the money arrived.".into()),
            document: None,
        },
        &agent,
    )?;
    run.after(10);
    run.ok("EXP-101", Command::ConfirmSatisfaction(happy(true, 4)), &li)?;
    run.refused("EXP-101", Command::Close, &manager)?; // major: the follow-up comes first

    // 2. A rude courier at the counter, resolved on the spot.
    run.at("2026-11-18 15:00")?;
    run.receive(
        "EXP-102",
        intake(
            "cust-0077",
            "Zhou Wu",
            "13700002222",
            "counter",
            "The courier threw the parcel and shouted.",
        ),
        &agent,
    )?;
    run.after(10);
    run.ok(
        "EXP-102",
        Command::ResolveOnTheSpot {
            remedy: "apology".try_into()?,
            description: "Outlet head apologised in person.".into(),
        },
        &agent,
    )?;

    // 3. Invalid: held by customs, not our fault; the explanation satisfies.
    run.after(30);
    run.receive(
        "EXP-103",
        intake(
            "cust-0123",
            "Qian Qi",
            "13600003333",
            "app",
            "Parcel stuck for a week.",
        ),
        &agent,
    )?;
    run.after(5);
    run.ok("EXP-103", Command::Acknowledge, &agent)?;
    run.ok(
        "EXP-103",
        Command::Triage {
            category: CategoryPath::parse("delay")?,
            tier: None,
            validity: Validity::Invalid {
                reason: InvalidReason::NotResponsible,
            },
        },
        &agent,
    )?;
    run.after(20);
    run.ok(
        "EXP-103",
        Command::Explain {
            text: "Held by customs inspection; we cannot speed it up.".into(),
        },
        &agent,
    )?;
    run.after(60);
    let qian = run.customer_of("EXP-103")?;
    run.ok("EXP-103", Command::AcceptExplanation, &qian)?;

    // 4. A late delivery nobody investigates in time: warning, breach, both rungs.
    run.at("2026-11-20 15:00")?; // Friday afternoon: the weekend passes on the clock
    run.receive(
        "EXP-104",
        intake(
            "cust-0099",
            "Wu Liu",
            "13500004444",
            "app",
            "Next-day delivery, four days late.",
        ),
        &agent,
    )?;
    run.after(10);
    run.ok("EXP-104", Command::Acknowledge, &agent)?;
    run.ok("EXP-104", triage("delay", None)?, &agent)?;
    run.ok("EXP-104", route.clone(), &agent)?;
    // The service ticks every 6 hours for 2.5 days; the investigation breaches after two,
    // and an agent makes the late call the policy asks for.
    run.wait(48 * 60, 6 * 60)?;
    run.after(20);
    run.ok(
        "EXP-104",
        Command::RecordAction {
            action: "callback".try_into()?,
            note: Some("Apologised: the hub is tracing the parcel.".into()),
            document: None,
        },
        &agent,
    )?;
    run.wait(12 * 60 - 20, 6 * 60)?;
    let c = run.get("EXP-104")?;
    expect(
        c.in_ledger && c.tier.as_ref().is_some_and(|t| t.as_str() == "major"),
        "EXP-104 climbed the ladder",
    )?;
    run.ok(
        "EXP-104",
        Command::RecordFindings {
            findings: findings("Mis-routed cage at the hub."),
            root_cause: Some(CategoryPath::parse("delay/hub-backlog")?),
        },
        &investigator,
    )?;
    run.after(30);
    run.ok(
        "EXP-104",
        Command::Propose {
            remedy: "apology".try_into()?,
            description: "Apologise and waive the fee".into(),
            amount: None,
        },
        &investigator,
    )?;
    run.after(20);
    run.ok("EXP-104", Command::Approve { note: None }, &manager)?;
    let wu = run.customer_of("EXP-104")?;
    run.after(60);
    run.ok("EXP-104", Command::AcceptProposal { agreement: None }, &wu)?;
    run.ok(
        "EXP-104",
        Command::RecordExecution {
            action: "Fee waived".into(),
            reference: None,
            finished: true,
        },
        &finance,
    )?;
    run.ok(
        "EXP-104",
        Command::GiveFeedback {
            text: "Fee waived; the hub is corrected.".into(),
        },
        &agent,
    )?;
    run.after(120);
    run.ok("EXP-104", Command::ConfirmSatisfaction(happy(true, 3)), &wu)?;

    // 5. A damaged vase: satisfied at first, unsatisfied at the follow-up call: reissued.
    run.at("2026-11-23 10:00")?;
    let mut i = intake(
        "cust-0201",
        "Sun Ba",
        "13400005555",
        "hotline",
        "Vase arrived broken.",
    );
    i.subject.postage = Some(cny(2_000));
    run.receive("EXP-105", i, &agent)?;
    let sun = run.customer_of("EXP-105")?;
    run.after(10);
    run.ok("EXP-105", Command::Acknowledge, &agent)?;
    run.ok("EXP-105", triage("damage", None)?, &agent)?;
    run.ok("EXP-105", route.clone(), &agent)?;
    run.after(120);
    run.ok(
        "EXP-105",
        Command::RecordFindings {
            findings: findings("Thin packing."),
            root_cause: Some(CategoryPath::parse("damage/packing")?),
        },
        &investigator,
    )?;
    run.ok(
        "EXP-105",
        Command::Propose {
            remedy: "reshipment".try_into()?,
            description: "Reship a new vase".into(),
            amount: None,
        },
        &investigator,
    )?;
    run.after(60);
    run.ok("EXP-105", Command::AcceptProposal { agreement: None }, &sun)?;
    run.ok(
        "EXP-105",
        Command::RecordExecution {
            action: "Reshipped YT5550002222".into(),
            reference: Some("YT5550002222".into()),
            finished: true,
        },
        &finance,
    )?;
    run.ok(
        "EXP-105",
        Command::GiveFeedback {
            text: "A new vase is on its way.".into(),
        },
        &agent,
    )?;
    run.after(60);
    run.ok(
        "EXP-105",
        Command::ConfirmSatisfaction(happy(true, 4)),
        &sun,
    )?;
    run.at("2026-11-25 10:00")?;
    let c = run.ok("EXP-105", Command::FollowUp(happy(false, 1)), &agent)?; // the new one broke too
    expect(
        c.stage.kind() == StageKind::Investigating && c.reopened == 1,
        "EXP-105 reissued",
    )?;
    run.after(60);
    run.ok(
        "EXP-105",
        Command::RecordFindings {
            findings: findings("Same packing line; fixed."),
            root_cause: None,
        },
        &investigator,
    )?;
    run.ok(
        "EXP-105",
        Command::Propose {
            remedy: "compensation".try_into()?,
            description: "Refund the vase's postage three times".into(),
            amount: Some(cny(6_000)),
        },
        &investigator,
    )?;
    run.ok("EXP-105", Command::Approve { note: None }, &gm)?;
    run.after(30);
    run.ok("EXP-105", Command::AcceptProposal { agreement: None }, &sun)?;
    run.ok(
        "EXP-105",
        Command::RecordExecution {
            action: "Paid 60.00 CNY".into(),
            reference: None,
            finished: true,
        },
        &finance,
    )?;
    run.ok(
        "EXP-105",
        Command::GiveFeedback {
            text: "Refunded.".into(),
        },
        &agent,
    )?;
    run.ok(
        "EXP-105",
        Command::ConfirmSatisfaction(happy(true, 4)),
        &sun,
    )?;
    run.ok("EXP-105", Command::Close, &manager)?;

    // 6. The regulator transfers Li Si's loss again: major by rule, merged as a duplicate.
    let mut i = intake(
        "cust-0042",
        "Li Si",
        "13900001111",
        "regulator",
        "Transferred: camera lost.",
    );
    i.flags
        .insert(Flag::new("regulator_transfer").expect("a flag key"));
    run.receive("EXP-106", i, &agent)?;
    run.ok("EXP-106", Command::Acknowledge, &agent)?;
    let c = run.ok("EXP-106", triage("loss", None)?, &agent)?;
    expect(
        c.tier.as_ref().is_some_and(|t| t.as_str() == "major"),
        "regulator transfers are major",
    )?;
    run.ok(
        "EXP-106",
        Command::Merge {
            into: "EXP-101".try_into()?,
        },
        &agent,
    )?;

    // 7. A question answered on the hotline: a consultation, not a complaint.
    run.at("2026-11-20 11:00")?;
    let question = |who, name, phone| {
        intake(
            who,
            name,
            phone,
            "hotline",
            "Where is my parcel? Tracking has not moved since yesterday.",
        )
    };
    run.consult(
        "EXP-107",
        question("cust-0107", "Wu Shi", "13900007777"),
        "It left the hub this morning; delivery is due tomorrow.",
        &agent,
    )?;
    // 8. The same answer, disputed: the customer was promised delivery today. The service
    //    manager turns it into a complaint (received when the customer first called); it is
    //    resolved on the spot with an apology.
    run.consult(
        "EXP-108",
        question("cust-0108", "Zheng Ba", "13900008888"),
        "It left the hub this morning; delivery is due tomorrow.",
        &agent,
    )?;
    run.after(20);
    let c = run.ok(
        "EXP-108",
        Command::ConvertToComplaint {
            reason: "the courier promised delivery today".into(),
        },
        &manager,
    )?;
    expect(
        c.clock("acknowledge").is_some(),
        "a converted consultation is acknowledged on the complaint's clock",
    )?;
    run.ok("EXP-108", Command::Acknowledge, &agent)?;
    run.ok(
        "EXP-108",
        Command::ResolveOnTheSpot {
            remedy: "apology".try_into()?,
            description: "Apologised; the outlet delivers tonight.".into(),
        },
        &agent,
    )?;

    // Follow-ups inside their windows (day 5 to 7), then the ledger closes.
    run.at("2026-11-23 14:00")?;
    run.tick()?;
    run.ok("EXP-101", Command::FollowUp(happy(true, 5)), &agent)?;
    run.ok("EXP-101", Command::Close, &manager)?;
    run.at("2026-11-29 10:00")?;
    run.tick()?;
    run.ok("EXP-104", Command::FollowUp(happy(true, 4)), &agent)?;
    run.ok("EXP-104", Command::Close, &manager)?;

    let late = run.get("EXP-104")?;
    expect(
        late.clock("investigation").and_then(|k| k.outcome) == Some(ClockOutcome::Breached),
        "EXP-104 breached",
    )?;
    // The monthly assessment: the hub's backlog that week was the storm's, not the outlet's.
    run.ok(
        "EXP-104",
        Command::AdjustPoints {
            points: 2,
            reason: "storm backlog at the hub; the missed limit is waived".into(),
        },
        &gm,
    )?;
    if !quiet {
        run.print()?;
    }
    run.summary()
}
