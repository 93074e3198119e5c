//! The express company's procedure, end to end: a major loss with compensation that goes
//! through approval, a rejected first offer, a second round, execution, feedback, follow-up
//! and closing; and a courier-attitude complaint resolved on the spot at the counter.
//!
//! Run it with `cargo run --example express`. It prints each complaint's timeline in
//! China Standard Time and exits non-zero if anything unexpected happens.

use chrono::{Duration, FixedOffset};
use plaint::sla::ClockOutcome;
use plaint::{
    Actor, ActorId, CategoryPath, Command, CommandId, Complainant, Complaint, ComplaintId, Contact,
    DocumentRef, EngineError, Findings, Intake, ManualClock, MemoryStore, Money, Party, Policy,
    RecordingNotifier, Rejection, RemedyKey, Responsibility, RoleKey, Satisfaction, StageKind,
    Subject, Validity,
};
use std::error::Error;
use std::sync::Arc;

type Engine = plaint::Engine<MemoryStore, Arc<RecordingNotifier>, Arc<ManualClock>>;

fn main() -> Result<(), Box<dyn Error>> {
    let policy = Policy::from_toml_str(include_str!("policies/express.toml"))?;
    let cny = policy.currency;
    // Monday 2026-11-16 09:10 in Shanghai.
    let clock = Arc::new(ManualClock::new("2026-11-16T01:10:00Z".parse()?));
    let notifier = Arc::new(RecordingNotifier::new());
    let engine = plaint::Engine::builder(MemoryStore::new(), policy)
        .clock(Arc::clone(&clock))
        .notifier(Arc::clone(&notifier))
        .build();
    let mut run = Run {
        engine: &engine,
        clock: &clock,
        seq: 0,
        refused: 0,
    };

    let agent = staff("agent-wang", "agent")?;
    let investigator = staff("claims-liu", "investigator")?;
    let manager = staff("svc-mgr-chen", "service-manager")?;
    let gm = staff("gm-zhao", "general-manager")?;
    let finance = staff("fin-sun", "finance")?;
    let customer = Actor::complainant(ActorId::new("cust-0042")?);

    // 1. A lost parcel, reported on the hotline: major, with compensation.
    let lost = ComplaintId::new("EXP-2026-000101")?;
    let intake = Intake {
        complainant: Complainant {
            id: customer.id.clone(),
            name: "Li Si".into(),
            contacts: vec![
                Contact::Phone("13900001111".into()),
                Contact::Email("li.si@example.com".into()),
            ],
        },
        channel: "hotline".try_into()?,
        received_at: clock_now(&clock) - Duration::minutes(4),
        subject: Subject {
            waybill: Some("YT9876543210".into()),
            amount_at_stake: Some(Money::new(45_000, cny)),
            declared_value: Some(Money::new(45_000, cny)),
            insured: true,
            ..Subject::default()
        },
        description:
            "Parcel (a camera, declared 450 CNY) never arrived; tracking stopped at the hub.".into(),
        evidence: vec![],
        requested_remedy: Some("compensation of the declared value".into()),
        staff_involved: vec![],
        flags: Default::default(),
        people_affected: None,
    };
    run.ok(&lost, Command::Receive(Box::new(intake)), &agent, 0)?;
    run.ok(&lost, Command::Acknowledge, &agent, 5)?;
    run.ok(
        &lost,
        Command::Triage {
            category: CategoryPath::parse("loss")?,
            tier: Some("major".try_into()?),
            validity: Validity::Valid,
        },
        &agent,
        20,
    )?;
    run.ok(
        &lost,
        Command::Route {
            responsibility: Some(Responsibility {
                primary: "claims".try_into()?,
                collaborating: vec!["hub".try_into()?],
                party: Party::Internal {
                    unit: "Hangzhou hub".into(),
                },
            }),
        },
        &agent,
        30,
    )?;
    // A major complaint owes the customer a progress report by 17:00 every working day.
    let progress = |note: &str| Command::ReportProgress { note: note.into() };
    run.ok(
        &lost,
        progress("The hub is searching its CCTV."),
        &agent,
        385,
    )?;
    run.ok(
        &lost,
        Command::RecordFindings {
            findings: Findings {
                summary: "Scanned in at the hub, never scanned out; CCTV shows mis-sorting.".into(),
                records: vec!["trace YT9876543210".into(), "CCTV hub-3 2026-11-14".into()],
            },
            root_cause: Some(CategoryPath::parse("loss/in-transit")?),
        },
        &investigator,
        1055,
    )?;
    let compensation: RemedyKey = "compensation".try_into()?;
    run.ok(
        &lost,
        Command::Propose {
            remedy: compensation.clone(),
            description: "Compensate at the declared value's standard rate".into(),
            amount: Some(Money::new(30_000, cny)),
        },
        &investigator,
        60,
    )?;
    // Any compensation needs the general manager: the service manager's limit is 0.
    run.refused(&lost, Command::Approve { note: None }, &manager, 10)?;
    run.ok(
        &lost,
        Command::Approve {
            note: Some("standard rate".into()),
        },
        &gm,
        30,
    )?;
    run.ok(
        &lost,
        Command::RejectProposal {
            reason: Some("the camera was worth the full declared value".into()),
        },
        &customer,
        120,
    )?;
    run.ok(
        &lost,
        Command::Propose {
            remedy: compensation,
            description: "Compensate the full declared value (insured)".into(),
            amount: Some(Money::new(45_000, cny)),
        },
        &investigator,
        60,
    )?;
    run.ok(&lost, Command::Approve { note: None }, &gm, 45)?;
    run.ok(
        &lost,
        Command::AcceptProposal {
            agreement: Some(DocumentRef {
                reference: "agreements/EXP-2026-000101.pdf".into(),
                content_hash: None,
            }),
        },
        &customer,
        30,
    )?;
    run.ok(
        &lost,
        progress("Finance is paying the compensation."),
        &agent,
        30,
    )?;
    run.ok(
        &lost,
        Command::RecordExecution {
            action: "Paid 450.00 CNY to the complainant's account".into(),
            reference: Some("PAY-77812".into()),
            finished: true,
        },
        &finance,
        60 * 20,
    )?;
    run.ok(
        &lost,
        Command::GiveFeedback {
            text: "Compensation of 450.00 CNY has been paid.".into(),
        },
        &agent,
        30,
    )?;
    run.ok(
        &lost,
        Command::ConfirmSatisfaction(Satisfaction {
            satisfied: true,
            score: Some(4),
            comment: None,
        }),
        &customer,
        60,
    )?;
    // Major complaints need a follow-up call before closing.
    run.refused(&lost, Command::Close, &manager, 5)?;
    run.ok(
        &lost,
        Command::FollowUp(Satisfaction {
            satisfied: true,
            score: Some(5),
            comment: Some("thanks for the quick payment".into()),
        }),
        &agent,
        60 * 24 * 5,
    )?;
    let closed = run.ok(&lost, Command::Close, &manager, 30)?;
    expect(
        closed.stage.kind() == StageKind::Closed,
        "the lost parcel is closed",
    )?;
    expect(closed.negotiation_rounds() == 2, "two negotiation rounds")?;

    // 2. A rude courier, reported at the counter and resolved on the spot.
    let rude = ComplaintId::new("EXP-2026-000102")?;
    let intake = Intake {
        complainant: Complainant {
            id: ActorId::new("cust-0077")?,
            name: "Zhou Wu".into(),
            contacts: vec![Contact::Phone("13700002222".into())],
        },
        channel: "counter".try_into()?,
        received_at: clock_now(&clock),
        subject: Subject {
            place: Some("Xihu outlet".into()),
            ..Subject::default()
        },
        description: "The courier threw the parcel at the door and shouted.".into(),
        evidence: vec![],
        requested_remedy: Some("an apology".into()),
        staff_involved: vec!["courier 0042".into()],
        flags: Default::default(),
        people_affected: None,
    };
    run.ok(&rude, Command::Receive(Box::new(intake)), &agent, 0)?;
    let done = run.ok(
        &rude,
        Command::ResolveOnTheSpot {
            remedy: "apology".try_into()?,
            description: "Outlet head apologised in person; courier coached.".into(),
        },
        &agent,
        10,
    )?;
    expect(
        done.stage.kind() == StageKind::Closed,
        "the counter complaint is closed",
    )?;

    // 3. A late delivery nobody investigates in time: warning, breach, and the ladder.
    let late = ComplaintId::new("EXP-2026-000103")?;
    let intake = Intake {
        complainant: Complainant {
            id: ActorId::new("cust-0099")?,
            name: "Wu Liu".into(),
            contacts: vec![Contact::Email("wu.liu@example.com".into())],
        },
        channel: "app".try_into()?,
        received_at: clock_now(&clock),
        subject: Subject {
            waybill: Some("YT5550001111".into()),
            ..Subject::default()
        },
        description: "Promised next-day delivery, four days and still 'in transit'.".into(),
        evidence: vec![],
        requested_remedy: Some("a refund of the express fee".into()),
        staff_involved: vec![],
        flags: Default::default(),
        people_affected: None,
    };
    run.ok(&late, Command::Receive(Box::new(intake)), &agent, 15)?;
    run.ok(&late, Command::Acknowledge, &agent, 10)?;
    run.ok(
        &late,
        Command::Triage {
            category: CategoryPath::parse("delay")?,
            tier: None,
            validity: Validity::Valid,
        },
        &agent,
        5,
    )?;
    // No department named: the policy's routing rules send a delay to the hub.
    run.ok(
        &late,
        Command::Route {
            responsibility: None,
        },
        &agent,
        5,
    )?;
    // The embedding service ticks when `next_due` says; here, after 37 hours (warning at
    // 75 % of 48 h), then after a long outage that spans the breach and both rungs.
    run.tick(37 * 60)?;
    run.tick(23 * 60)?;
    let c = engine.get(&late)?.ok_or("complaint missing")?;
    expect(c.in_ledger, "the late complaint is in the ledger")?;
    expect(
        c.tier.as_ref().is_some_and(|t| t.as_str() == "major"),
        "the ladder raised it",
    )?;
    run.ok(
        &late,
        Command::RecordFindings {
            findings: Findings {
                summary: "Parcel sat in a mis-routed cage at the hub for three days.".into(),
                records: vec!["trace YT5550001111".into()],
            },
            root_cause: Some(CategoryPath::parse("delay/hub-backlog")?),
        },
        &investigator,
        30,
    )?;
    run.ok(
        &late,
        Command::Propose {
            remedy: "apology".try_into()?,
            description: "Apologise and waive the express fee".into(),
            amount: None,
        },
        &investigator,
        30,
    )?;
    run.ok(&late, Command::Approve { note: None }, &manager, 20)?;
    run.ok(
        &late,
        Command::AcceptProposal { agreement: None },
        &customer_of(&late, &engine)?,
        60,
    )?;
    run.ok(
        &late,
        Command::RecordExecution {
            action: "Express fee waived on the account".into(),
            reference: None,
            finished: true,
        },
        &finance,
        60,
    )?;
    run.ok(
        &late,
        Command::GiveFeedback {
            text: "We apologise; the fee is waived and the hub has been corrected.".into(),
        },
        &agent,
        10,
    )?;
    let customer3 = customer_of(&late, &engine)?;
    let fine = Satisfaction {
        satisfied: true,
        score: Some(3),
        comment: Some("took too long, but fair".into()),
    };
    run.ok(
        &late,
        Command::ConfirmSatisfaction(fine.clone()),
        &customer3,
        120,
    )?;
    // Now major, it gets a follow-up call inside the day-5-to-7 window.
    run.tick(60 * 24 * 6)?;
    run.ok(&late, Command::FollowUp(fine), &agent, 0)?;
    let c = run.ok(&late, Command::Close, &manager, 30)?;
    let breached = c.clock("investigation").and_then(|k| k.outcome);
    expect(
        breached == Some(ClockOutcome::Breached),
        "investigation breached",
    )?;
    expect(
        c.stage.kind() == StageKind::Closed,
        "the late complaint is closed",
    )?;

    for id in [&lost, &rude, &late] {
        print_timeline(&engine, id)?;
    }
    println!("\nnotifications sent:");
    for n in notifier.delivered() {
        println!("  {:<38} → {:?}", n.id.to_string(), n.recipient);
    }
    println!(
        "\nrefused as the policy demands: {} command(s)",
        run.refused
    );
    Ok(())
}

/// Drives the engine, advancing the manual clock before each command.
struct Run<'a> {
    engine: &'a Engine,
    clock: &'a ManualClock,
    seq: u32,
    refused: usize,
}

impl Run<'_> {
    fn next_id(&mut self) -> CommandId {
        self.seq += 1;
        CommandId::new(format!("cmd-{:04}", self.seq)).expect("valid id")
    }

    /// Advances the clock and fires whatever fell due, as an embedding service's timer would.
    fn tick(&mut self, after_minutes: i64) -> Result<(), Box<dyn Error>> {
        self.clock.advance(Duration::minutes(after_minutes));
        let fired = self.engine.tick()?;
        println!(
            "tick at {}: {} item(s) fired",
            plaint::Clock::now(self.clock).format("%a %m-%d %H:%M UTC"),
            fired.len()
        );
        Ok(())
    }

    fn ok(
        &mut self,
        id: &ComplaintId,
        command: Command,
        actor: &Actor,
        after_minutes: i64,
    ) -> Result<Arc<Complaint>, Box<dyn Error>> {
        self.clock.advance(Duration::minutes(after_minutes));
        let cmd = self.next_id();
        Ok(self.engine.execute(cmd, id, command, actor)?)
    }

    fn refused(
        &mut self,
        id: &ComplaintId,
        command: Command,
        actor: &Actor,
        after_minutes: i64,
    ) -> Result<(), Box<dyn Error>> {
        self.clock.advance(Duration::minutes(after_minutes));
        let kind = command.kind();
        let cmd = self.next_id();
        match self.engine.execute(cmd, id, command, actor) {
            Err(EngineError::Rejected(
                r @ (Rejection::Forbidden { .. } | Rejection::Invalid { .. }),
            )) => {
                println!("refused {kind} by {}: {r}", actor.id);
                self.refused += 1;
                Ok(())
            }
            Err(e) => Err(e.into()),
            Ok(_) => Err(format!("{kind} by {} should have been refused", actor.id).into()),
        }
    }
}

fn print_timeline(engine: &Engine, id: &ComplaintId) -> Result<(), Box<dyn Error>> {
    let cst = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    let c = engine.get(id)?.ok_or("complaint missing")?;
    println!(
        "\n== {id} ({}) — {:?}",
        c.tier.as_ref().map_or("untriaged", |t| t.as_str()),
        c.stage
    );
    for r in engine.history(id)? {
        println!(
            "  {}  {:<13} {}",
            r.at.with_timezone(&cst).format("%a %m-%d %H:%M"),
            r.actor.as_str(),
            r.event
        );
    }
    Ok(())
}

fn customer_of(id: &ComplaintId, engine: &Engine) -> Result<Actor, Box<dyn Error>> {
    let c = engine.get(id)?.ok_or("complaint missing")?;
    Ok(Actor::complainant(c.intake.complainant.id.clone()))
}

fn staff(id: &str, role: &str) -> Result<Actor, Box<dyn Error>> {
    Ok(Actor::staff(
        ActorId::new(id)?,
        vec![RoleKey::new(role)?],
        None,
    ))
}

fn clock_now(clock: &ManualClock) -> plaint::Timestamp {
    plaint::Clock::now(clock)
}

fn expect(cond: bool, what: &str) -> Result<(), Box<dyn Error>> {
    if cond {
        Ok(())
    } else {
        Err(format!("unexpected: {what} is false").into())
    }
}
