//! A hotel's weekend at the front desk (DOMAIN.md §6): six complaints on the hotel policy.

#![allow(unreachable_pub)]

use crate::support::cmd::*;
use crate::support::{Res, Run, Summary, expect, intake, staff};
use plaint::{CategoryPath, Command, Flag, InvalidReason, Money, StageKind, Validity};

/// Runs the scenario on `store`; `quiet` suppresses printing (tests).
pub fn run(store: std::sync::Arc<dyn plaint::DynStore>, quiet: bool) -> Res<Summary> {
    let mut run = Run::new(
        store,
        include_str!("../policies/hotel.toml"),
        "2026-11-20 19:00",
        quiet,
    )?;
    let currency = run.engine.current_policy().currency;
    let cny = |minor| Money::new(minor, currency);
    let desk = staff("desk-lin", "front-desk");
    let housekeeping = staff("hk-ma", "department");
    let engineer = staff("eng-guo", "department");
    let fnb = staff("fnb-he", "department");
    let duty = staff("duty-tang", "duty-manager");
    let gm = staff("gm-song", "general-manager");

    // 1. Stained towels: the desk sends fresh ones at once.
    run.receive(
        "HTL-1",
        intake(
            "g-1201",
            "Ms Park",
            "13900002001",
            "room-phone",
            "Towels in 1201 are stained.",
        ),
        &desk,
    )?;
    run.after(3);
    run.ok(
        "HTL-1",
        Command::ResolveOnTheSpot {
            remedy: "apology".try_into()?,
            description: "Fresh towels sent up within 5 minutes.".into(),
        },
        &desk,
    )?;

    // 2. A minibar charge disputed: the guest had used it; explained and accepted.
    run.after(20);
    run.receive(
        "HTL-2",
        intake(
            "g-0805",
            "Mr Qiu",
            "13900002002",
            "front-desk",
            "Charged for a minibar I never used.",
        ),
        &desk,
    )?;
    run.ok("HTL-2", Command::Acknowledge, &desk)?;
    run.ok(
        "HTL-2",
        Command::Triage {
            category: CategoryPath::parse("billing")?,
            tier: None,
            validity: Validity::Invalid {
                reason: InvalidReason::Misunderstanding,
            },
        },
        &desk,
    )?;
    run.ok(
        "HTL-2",
        Command::Explain {
            text: "The sensor log shows two drinks taken at 23:10; we can show the log.".into(),
        },
        &desk,
    )?;
    let qiu = run.customer_of("HTL-2")?;
    run.after(10);
    run.ok("HTL-2", Command::AcceptExplanation, &qiu)?;

    // 3. Air conditioning broken, and engineering does not come: the ladder climbs.
    run.at("2026-11-20 22:00")?;
    run.receive(
        "HTL-3",
        intake(
            "g-1507",
            "Mrs Ito",
            "13900002003",
            "room-phone",
            "Air conditioning blows hot air.",
        ),
        &desk,
    )?;
    run.ok("HTL-3", Command::Acknowledge, &desk)?;
    run.ok("HTL-3", triage("facilities/air-conditioning")?, &desk)?;
    run.ok("HTL-3", route(), &desk)?;
    run.wait(50, 5)?; // the desk's screen refreshes every 5 minutes
    let c = run.get("HTL-3")?;
    expect(
        c.in_ledger && c.tier.as_ref().is_some_and(|t| t.as_str() == "urgent"),
        "HTL-3 climbed the ladder",
    )?;
    run.ok(
        "HTL-3",
        findings("Compressor failed; no spare tonight."),
        &engineer,
    )?;
    run.ok(
        "HTL-3",
        propose("room-change", "Move to 1609 (same type) now", None)?,
        &engineer,
    )?;
    run.ok("HTL-3", Command::Approve { note: None }, &gm)?; // urgent now: the GM approves
    let ito = run.customer_of("HTL-3")?;
    run.after(5);
    run.ok("HTL-3", Command::AcceptProposal { agreement: None }, &ito)?;
    run.after(20);
    run.ok("HTL-3", done("Moved to 1609 with bellboy"), &desk)?;
    run.ok(
        "HTL-3",
        feedback("You are in 1609; 1507 is being repaired."),
        &desk,
    )?;
    run.ok("HTL-3", Command::ConfirmSatisfaction(happy(true, 3)), &ito)?;

    // 4. A wedding party's noise, posted online (important): a tracking officer reports every
    //    two hours; the guest turns down an upgrade and accepts a refund for the night.
    run.at("2026-11-21 00:30")?;
    let mut i = intake(
        "g-0712",
        "Mr Novak",
        "13900002004",
        "online-review",
        "Music until past midnight, two nights running.",
    );
    i.subject.price = Some(cny(80_000));
    run.receive("HTL-4", i, &desk)?;
    run.ok("HTL-4", Command::Acknowledge, &desk)?;
    let c = run.ok("HTL-4", triage("noise")?, &desk)?;
    expect(
        c.tier.as_ref().is_some_and(|t| t.as_str() == "important"),
        "online reviews are important",
    )?;
    run.ok("HTL-4", route(), &desk)?;
    run.after(8);
    run.ok("HTL-4", findings("Banquet hall overran its licence."), &fnb)?;
    run.ok(
        "HTL-4",
        propose("upgrade", "Suite upgrade for the rest of the stay", None)?,
        &duty,
    )?;
    let novak = run.customer_of("HTL-4")?;
    run.after(30);
    run.ok(
        "HTL-4",
        Command::RejectProposal {
            reason: Some("I leave tomorrow".into()),
        },
        &novak,
    )?;
    run.ok(
        "HTL-4",
        Command::ReportProgress {
            note: "The banquet manager will call you at 9:00.".into(),
        },
        &duty,
    )?;
    run.after(60);
    run.refused(
        "HTL-4",
        propose("refund", "Two nights refunded", Some(cny(160_000)))?,
        &duty,
    )?; // above the cap
    run.ok(
        "HTL-4",
        propose("refund", "Tonight's room refunded", Some(cny(80_000)))?,
        &duty,
    )?;
    run.ok("HTL-4", Command::Approve { note: None }, &gm)?; // 800 > 500: approval (the proposer may not)
    run.after(20);
    run.ok("HTL-4", Command::AcceptProposal { agreement: None }, &novak)?;
    run.ok("HTL-4", done("Refund of 800.00 on the folio"), &desk)?;
    run.ok("HTL-4", feedback("Refunded on your bill."), &desk)?;
    run.ok(
        "HTL-4",
        Command::RecordAction {
            action: "callback".try_into()?,
            note: Some("Phoned Ms Novak: she saw the refund on her bill.".into()),
            document: None,
        },
        &duty,
    )?;
    run.ok(
        "HTL-4",
        Command::ConfirmSatisfaction(happy(true, 4)),
        &novak,
    )?;

    // 5. A rude waiter: apology and a complimentary dinner; at the follow-up call the guest
    //    says the same waiter was rude again, so the complaint is reissued.
    run.at("2026-11-21 12:30")?;
    run.receive(
        "HTL-5",
        intake(
            "g-0903",
            "Ms Silva",
            "13900002005",
            "front-desk",
            "The waiter at lunch mocked my accent.",
        ),
        &desk,
    )?;
    let silva = run.customer_of("HTL-5")?;
    run.ok("HTL-5", Command::Acknowledge, &desk)?;
    run.ok("HTL-5", triage("attitude")?, &desk)?;
    run.ok("HTL-5", route(), &desk)?;
    run.after(10);
    run.ok("HTL-5", findings("Waiter confirms; warned."), &fnb)?;
    run.ok(
        "HTL-5",
        propose("complimentary", "Apology and dinner for two", None)?,
        &fnb,
    )?;
    run.after(20);
    run.ok("HTL-5", Command::AcceptProposal { agreement: None }, &silva)?;
    run.ok("HTL-5", done("Dinner voucher in room"), &fnb)?;
    run.ok(
        "HTL-5",
        feedback("The waiter has been warned; dinner is on us."),
        &desk,
    )?;
    run.ok(
        "HTL-5",
        Command::ConfirmSatisfaction(happy(true, 4)),
        &silva,
    )?;
    run.at("2026-11-21 21:00")?;
    let c = run.ok("HTL-5", Command::FollowUp(happy(false, 1)), &desk)?;
    expect(
        c.stage.kind() == StageKind::Investigating && c.reopened == 1,
        "HTL-5 reissued",
    )?;
    run.after(10);
    run.ok(
        "HTL-5",
        findings("Same waiter; moved off the guest's floor."),
        &fnb,
    )?;
    run.ok(
        "HTL-5",
        propose("apology", "The F&B director apologises in person", None)?,
        &fnb,
    )?;
    run.ok("HTL-5", Command::AcceptProposal { agreement: None }, &silva)?;
    run.ok("HTL-5", done("Director visited"), &fnb)?;
    run.ok(
        "HTL-5",
        feedback("The director apologised; the waiter is reassigned."),
        &desk,
    )?;
    run.ok(
        "HTL-5",
        Command::ConfirmSatisfaction(happy(true, 4)),
        &silva,
    )?;
    run.ok("HTL-5", Command::Close, &duty)?;

    // 6. A guest slips on a wet lobby floor: urgent, compensation for the clinic bill goes
    //    to the general manager.
    run.at("2026-11-22 08:15")?;
    let mut i = intake(
        "g-1102",
        "Mr Haas",
        "13900002006",
        "front-desk",
        "Slipped on the wet lobby floor; no warning sign.",
    );
    i.flags.insert(Flag::new("safety").expect("a flag key"));
    i.subject.amount_at_stake = Some(cny(60_000));
    run.receive("HTL-6", i, &desk)?;
    run.ok("HTL-6", Command::Acknowledge, &desk)?;
    let c = run.ok("HTL-6", triage("safety")?, &desk)?;
    expect(
        c.tier.as_ref().is_some_and(|t| t.as_str() == "urgent"),
        "safety is urgent",
    )?;
    run.ok("HTL-6", route(), &desk)?;
    run.after(4);
    run.ok(
        "HTL-6",
        findings("Floor mopped at 08:00 without a sign."),
        &housekeeping,
    )?;
    run.ok(
        "HTL-6",
        propose(
            "compensation",
            "Clinic bill and a night's stay",
            Some(cny(100_000)),
        )?,
        &duty,
    )?;
    run.refused("HTL-6", Command::Approve { note: None }, &duty)?; // own proposal, and urgent
    run.after(15);
    run.ok("HTL-6", Command::Approve { note: None }, &gm)?;
    let haas = run.customer_of("HTL-6")?;
    run.after(30);
    run.ok("HTL-6", Command::AcceptProposal { agreement: None }, &haas)?;
    run.ok("HTL-6", done("1,000.00 credited"), &desk)?;
    run.ok(
        "HTL-6",
        feedback("Credited; signs are now mandatory when mopping."),
        &desk,
    )?;
    run.ok("HTL-6", Command::ConfirmSatisfaction(happy(true, 4)), &haas)?;

    // Follow-up calls the next day, inside their windows, then closing.
    run.at("2026-11-22 21:00")?;
    run.tick()?;
    for id in ["HTL-3", "HTL-4"] {
        run.ok(id, Command::FollowUp(happy(true, 4)), &desk)?;
        run.ok(id, Command::Close, &duty)?;
    }
    run.at("2026-11-23 10:00")?;
    run.tick()?;
    run.ok("HTL-6", Command::FollowUp(happy(true, 5)), &desk)?;
    run.ok("HTL-6", Command::Close, &gm)?;

    if !quiet {
        run.print()?;
    }
    run.summary()
}
