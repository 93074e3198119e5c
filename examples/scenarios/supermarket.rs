//! A supermarket's New Year week (DOMAIN.md §6): six complaints on the supermarket policy.

#![allow(unreachable_pub)]

use crate::support::cmd::*;
use crate::support::{Res, Run, Summary, expect, intake, staff};
use plaint::{
    CategoryPath, Command, DocumentRef, Event, Flag, InvalidReason, Money, StageKind, Validity,
};

/// Runs the scenario on `store`; `quiet` suppresses printing (tests).
pub fn run(store: std::sync::Arc<dyn plaint::DynStore>, quiet: bool) -> Res<Summary> {
    let mut run = Run::new(
        store,
        include_str!("../policies/supermarket.toml"),
        "2026-12-30 09:00",
        quiet,
    )?;
    let currency = run.engine.current_policy().currency;
    let cny = |minor| Money::new(minor, currency);
    let clerk = staff("desk-zhao", "clerk");
    let qa = staff("qa-qian", "quality-officer");
    let manager = staff("store-mgr-sun", "store-manager");
    let gm = staff("gm-li", "general-manager");
    let finance = staff("fin-zhou", "finance");

    // 1. Wrong shelf price, fixed at the service desk at once.
    run.receive(
        "MART-1",
        intake(
            "c-101",
            "Wang Fang",
            "13800001001",
            "service-desk",
            "Shelf said 9.90, till charged 12.90.",
        ),
        &clerk,
    )?;
    run.after(5);
    run.ok(
        "MART-1",
        Command::ResolveOnTheSpot {
            remedy: "refund".try_into()?,
            description: "Refunded 3.00 and corrected the shelf label.".into(),
        },
        &clerk,
    )?;

    // 2. A promotion misunderstood: invalid, explained, accepted.
    run.after(60);
    run.receive(
        "MART-2",
        intake(
            "c-102",
            "Liu Yang",
            "13800001002",
            "online",
            "The 2-for-1 offer was not applied.",
        ),
        &clerk,
    )?;
    run.after(10);
    run.ok("MART-2", Command::Acknowledge, &clerk)?;
    run.ok(
        "MART-2",
        Command::Triage {
            category: CategoryPath::parse("price/promotion")?,
            tier: None,
            validity: Validity::Invalid {
                reason: InvalidReason::Misunderstanding,
            },
        },
        &clerk,
    )?;
    run.ok(
        "MART-2",
        Command::Explain {
            text: "The offer is for the 500 g pack only, as the sign says.".into(),
        },
        &clerk,
    )?;
    run.after(30);
    let liu = run.customer_of("MART-2")?;
    run.ok("MART-2", Command::AcceptExplanation, &liu)?;

    // 3. A defective kettle nobody investigates: it breaches over New Year and the weekend.
    run.at("2026-12-30 10:00")?;
    run.receive(
        "MART-3",
        intake(
            "c-103",
            "Chen Jing",
            "13800001003",
            "hotline",
            "New kettle leaks from the base.",
        ),
        &clerk,
    )?;
    run.after(10);
    run.ok("MART-3", Command::Acknowledge, &clerk)?;
    run.ok("MART-3", triage("quality/defect")?, &clerk)?;
    let c = run.ok("MART-3", route(), &clerk)?;
    expect(
        c.responsibility
            .as_ref()
            .is_some_and(|r| r.primary.as_str() == "quality"),
        "MART-3 routed to quality",
    )?;

    // 4. Spoiled milk made a family ill, reported at 21:50: urgent by rule, so the general
    //    manager is alerted at once, day or night; compensation follows the food-safety cap.
    run.at("2026-12-30 21:50")?;
    let mut i = intake(
        "c-104",
        "Zhang Min",
        "13800001004",
        "service-desk",
        "Milk was sour; two of us were sick overnight.",
    );
    i.flags.insert(Flag::new("illness").expect("a flag key"));
    i.people_affected = Some(2);
    i.subject.product = Some("Fresh milk 1 L".into());
    i.subject.price = Some(cny(1_200));
    run.receive("MART-4", i, &clerk)?;
    run.after(5);
    run.ok("MART-4", Command::Acknowledge, &clerk)?;
    run.at("2026-12-30 22:05")?;
    let c = run.ok("MART-4", triage("food-safety/spoiled")?, &clerk)?;
    expect(
        c.tier.as_ref().is_some_and(|t| t.as_str() == "urgent"),
        "illness is urgent",
    )?;
    let alerted = run
        .engine
        .history(&"MART-4".try_into()?)?
        .iter()
        .any(|r| matches!(r.event, Event::AlertedAtOnce { .. }));
    expect(alerted, "the general manager was alerted at once")?;
    run.after(10);
    let c = run.ok("MART-4", route(), &clerk)?;
    expect(
        c.responsibility
            .as_ref()
            .is_some_and(|r| r.primary.as_str() == "store-manager"),
        "urgent food safety goes to the store manager",
    )?;
    run.at("2026-12-31 10:00")?;
    run.ok(
        "MART-4",
        findings_root(
            "Cold-chain failure in aisle 3 overnight.",
            "food-safety/spoiled/storage",
        )?,
        &qa,
    )?;
    run.ok(
        "MART-4",
        propose(
            "compensation",
            "Statutory minimum compensation",
            Some(cny(100_000)),
        )?,
        &qa,
    )?;
    run.refused("MART-4", Command::Approve { note: None }, &manager)?; // urgent: not the store manager's tier
    run.after(30);
    run.ok("MART-4", Command::Approve { note: None }, &gm)?;
    let zhang = run.customer_of("MART-4")?;
    run.after(60);
    run.ok(
        "MART-4",
        Command::RejectProposal {
            reason: Some("we lost a day's work".into()),
        },
        &zhang,
    )?;
    run.ok(
        "MART-4",
        propose(
            "compensation",
            "Minimum compensation plus lost wages",
            Some(cny(150_000)),
        )?,
        &qa,
    )?; // over the cap: escalates
    run.after(30);
    run.ok(
        "MART-4",
        Command::Approve {
            note: Some("over cap: medical note seen".into()),
        },
        &gm,
    )?;
    run.after(60);
    run.ok(
        "MART-4",
        Command::AcceptProposal {
            agreement: Some(DocumentRef {
                reference: "agreements/MART-4.pdf".into(),
                content_hash: None,
            }),
        },
        &zhang,
    )?;
    run.ok(
        "MART-4",
        Command::RecordAction {
            action: "progress-report".try_into()?,
            note: Some("Payment is being prepared.".into()),
            document: None,
        },
        &clerk,
    )?;
    run.at("2026-12-31 14:00")?;
    run.ok("MART-4", done("Paid 1,500.00 CNY"), &finance)?;
    run.ok(
        "MART-4",
        feedback("Compensation paid; the cold chain in aisle 3 is repaired."),
        &clerk,
    )?;
    run.after(60);
    run.ok(
        "MART-4",
        Command::ConfirmSatisfaction(happy(true, 4)),
        &zhang,
    )?;

    // 5. Expired yoghurt (important): refunded, but at the follow-up the shelf still had
    //    expired stock, so the complaint is reissued.
    run.at("2026-12-31 11:00")?;
    let mut i = intake(
        "c-105",
        "Huang Lei",
        "13800001005",
        "hotline",
        "Yoghurt two days past its date.",
    );
    i.subject.price = Some(cny(800));
    run.receive("MART-5", i, &clerk)?;
    let huang = run.customer_of("MART-5")?;
    run.after(10);
    run.ok("MART-5", Command::Acknowledge, &clerk)?;
    run.ok("MART-5", triage("food-safety/expired")?, &clerk)?;
    run.ok("MART-5", route(), &clerk)?;
    run.after(60);
    run.ok(
        "MART-5",
        findings("Date check skipped on the holiday rota."),
        &qa,
    )?;
    run.ok(
        "MART-5",
        propose("refund", "Refund and a replacement", None)?,
        &qa,
    )?;
    run.after(30);
    run.ok(
        "MART-5",
        Command::AcceptProposal { agreement: None },
        &huang,
    )?;
    run.ok("MART-5", done("Refunded 8.00"), &finance)?;
    run.ok("MART-5", feedback("Refunded; shelves checked."), &clerk)?;
    run.ok(
        "MART-5",
        Command::ConfirmSatisfaction(happy(true, 4)),
        &huang,
    )?;

    // 6. A rude cashier: an apology is accepted.
    run.after(30);
    run.receive(
        "MART-6",
        intake(
            "c-106",
            "Xu Hui",
            "13800001006",
            "service-desk",
            "The cashier shouted at my mother.",
        ),
        &clerk,
    )?;
    run.after(5);
    run.ok("MART-6", Command::Acknowledge, &clerk)?;
    run.ok("MART-6", triage("service")?, &clerk)?;
    run.ok("MART-6", route(), &clerk)?;
    run.after(120);
    run.ok(
        "MART-6",
        findings("Confirmed by CCTV; cashier coached."),
        &qa,
    )?;
    run.ok(
        "MART-6",
        propose("apology", "Written apology and a voucher", None)?,
        &manager,
    )?;
    let xu = run.customer_of("MART-6")?;
    run.after(60);
    run.ok("MART-6", Command::AcceptProposal { agreement: None }, &xu)?;
    run.ok("MART-6", done("Apology letter sent"), &finance)?;
    run.ok("MART-6", feedback("Apology sent."), &clerk)?;
    run.ok("MART-6", Command::ConfirmSatisfaction(happy(true, 5)), &xu)?;
    run.ok("MART-6", Command::Close, &manager)?;

    // New Year's Day (a holiday) passes; the service ticks every 3 hours. On Saturday the
    // food-poisoning case gets its follow-up call inside its window and closes.
    run.wait_until("2027-01-02 10:00", 3 * 60)?;
    run.ok("MART-4", Command::FollowUp(happy(true, 5)), &clerk)?;
    run.ok("MART-4", Command::Close, &gm)?;
    // The weekend passes.
    run.wait_until("2027-01-05 12:00", 3 * 60)?;
    let c = run.get("MART-3")?;
    expect(
        c.in_ledger && c.tier.as_ref().is_some_and(|t| t.as_str() == "urgent"),
        "MART-3 climbed the ladder",
    )?;
    run.ok(
        "MART-3",
        findings_root("Seal defect in the batch.", "quality/defect/production")?,
        &qa,
    )?;
    run.ok(
        "MART-3",
        propose("exchange", "Exchange for a new kettle", None)?,
        &qa,
    )?;
    run.ok("MART-3", Command::Approve { note: None }, &gm)?;
    let chen = run.customer_of("MART-3")?;
    run.ok("MART-3", Command::AcceptProposal { agreement: None }, &chen)?;
    run.ok("MART-3", done("Kettle exchanged"), &finance)?;
    run.ok(
        "MART-3",
        feedback("Exchanged; the batch is withdrawn."),
        &clerk,
    )?;
    run.ok(
        "MART-3",
        Command::ConfirmSatisfaction(happy(true, 3)),
        &chen,
    )?;
    run.after(60 * 24 + 60);
    run.ok("MART-3", Command::FollowUp(happy(true, 4)), &clerk)?;
    run.ok("MART-3", Command::Close, &manager)?;

    // The follow-up call on MART-5 finds expired stock again.
    let c = run.ok("MART-5", Command::FollowUp(happy(false, 2)), &clerk)?;
    expect(
        c.stage.kind() == StageKind::Investigating && c.reopened == 1,
        "MART-5 reissued",
    )?;
    run.ok(
        "MART-5",
        findings("Holiday rota fixed; all dairy re-checked."),
        &qa,
    )?;
    run.ok(
        "MART-5",
        propose("apology", "Apology and the store's date-check report", None)?,
        &qa,
    )?;
    run.ok(
        "MART-5",
        Command::AcceptProposal { agreement: None },
        &huang,
    )?;
    run.ok("MART-5", done("Report sent"), &finance)?;
    run.ok(
        "MART-5",
        feedback("All dairy re-checked daily now."),
        &clerk,
    )?;
    run.ok(
        "MART-5",
        Command::ConfirmSatisfaction(happy(true, 4)),
        &huang,
    )?;
    run.after(60 * 24 * 4);
    run.tick()?;
    run.ok("MART-5", Command::FollowUp(happy(true, 4)), &clerk)?;
    run.ok("MART-5", Command::Close, &manager)?;

    if !quiet {
        run.print()?;
    }
    run.summary()
}
