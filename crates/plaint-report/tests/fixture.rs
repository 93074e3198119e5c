//! The hand-computed fixture month: 30 complaints in November 2026 (plus four in October and
//! one in September for the comparisons), run through the engine on a manual clock that
//! ticks every hour, then reported. Every figure below was worked out by hand from the
//! script (the working is in the comments), not copied from the output.

use chrono::Datelike;
use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Asia::Shanghai;
use plaint_core::blocking::Wait as _;
use plaint_core::{
    ActorId, CategoryPath, ChannelKey, Command, CommandId, ComplaintId, DepartmentKey, Engine,
    Findings, InvalidReason, ManualClock, Party, Policy, Responsibility, Satisfaction, TierKey,
    Validity, testing,
};
use plaint_report::{Chart, Compliance, Period, Report};
use std::sync::Arc;

/// One scripted command at a local time.
type Item = (NaiveDateTime, ComplaintId, Command);

fn local(month: u32, day: u32, hour: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, month, day)
        .unwrap()
        .and_hms_opt(hour, 0, 0)
        .unwrap()
}

fn sat(satisfied: bool, score: u8) -> Satisfaction {
    Satisfaction {
        satisfied,
        score: Some(score),
        comment: None,
    }
}

/// A complaint's receipt: who, when, on which channel, about which waybill.
struct Receipt {
    id: &'static str,
    who: &'static str,
    at: NaiveDateTime,
    channel: &'static str,
    waybill: &'static str,
}

fn receive(out: &mut Vec<Item>, r: &Receipt) -> ComplaintId {
    let id = ComplaintId::new(r.id).unwrap();
    let mut intake = testing::intake(Shanghai.from_local_datetime(&r.at).unwrap().to_utc());
    intake.complainant.id = ActorId::new(r.who).unwrap();
    intake.channel = ChannelKey::new(r.channel).unwrap();
    intake.subject.waybill = Some(r.waybill.into());
    out.push((r.at, id.clone(), Command::Receive(Arc::new(intake))));
    id
}

/// The resolution of a valid complaint, as the quick flow and the reopen share it: findings,
/// an apology proposed, accepted after `pause` hours, carried out, the result told at
/// `feedback` hours after `t0`.
fn resolve(
    out: &mut Vec<Item>,
    id: &ComplaintId,
    t0: NaiveDateTime,
    from: i64,
    pause: i64,
    feedback: i64,
) {
    let h = |n: i64| t0 + Duration::hours(n);
    let findings = Command::RecordFindings {
        findings: Findings {
            summary: "found".into(),
            records: vec![],
        },
        root_cause: None,
    };
    out.push((h(from), id.clone(), findings));
    let propose = Command::Propose {
        remedy: "apology".try_into().unwrap(),
        description: "apologise".into(),
        amount: None,
    };
    out.push((h(from + 1), id.clone(), propose));
    out.push((
        h(from + 1 + pause),
        id.clone(),
        Command::AcceptProposal { agreement: None },
    ));
    let done = Command::RecordExecution {
        action: "apologised".into(),
        reference: None,
        finished: true,
    };
    out.push((h(from + 2 + pause), id.clone(), done));
    let feedback_cmd = Command::GiveFeedback {
        text: "done".into(),
    };
    out.push((h(feedback), id.clone(), feedback_cmd));
}

/// Acknowledge after `ack` minutes, triage at +1 h, route at +2 h.
#[allow(clippy::too_many_arguments)]
fn triage_and_route(
    out: &mut Vec<Item>,
    id: &ComplaintId,
    t0: NaiveDateTime,
    ack: i64,
    category: &str,
    tier: &str,
    primary: &str,
    collaborating: &[&str],
) {
    out.push((
        t0 + Duration::minutes(ack),
        id.clone(),
        Command::Acknowledge,
    ));
    let triage = Command::Triage {
        category: CategoryPath::parse(category).unwrap(),
        tier: Some(TierKey::new(tier).unwrap()),
        validity: Validity::Valid,
    };
    out.push((t0 + Duration::hours(1), id.clone(), triage));
    let route = Command::Route {
        responsibility: Some(Responsibility {
            primary: DepartmentKey::new(primary).unwrap(),
            collaborating: collaborating
                .iter()
                .map(|d| DepartmentKey::new(*d).unwrap())
                .collect(),
            party: Party::Internal {
                unit: "unit-1".into(),
            },
        }),
    };
    out.push((t0 + Duration::hours(2), id.clone(), route));
}

/// The quick flow. General: confirm at feedback + 1 h, close at + 2 h. Major: confirm at
/// + 1 h, follow up at + 2 h, close at + 3 h.
#[allow(clippy::too_many_arguments)]
fn quick(
    out: &mut Vec<Item>,
    r: Receipt,
    ack: i64,
    category: &str,
    tier: &str,
    departments: (&str, &[&str]),
    pause: i64,
    feedback: i64,
    confirm: Satisfaction,
    follow_up: Option<Satisfaction>,
) {
    let id = receive(out, &r);
    triage_and_route(
        out,
        &id,
        r.at,
        ack,
        category,
        tier,
        departments.0,
        departments.1,
    );
    resolve(out, &id, r.at, 3, pause, feedback);
    let h = |n: i64| r.at + Duration::hours(feedback + n);
    out.push((h(1), id.clone(), Command::ConfirmSatisfaction(confirm)));
    match follow_up {
        None => out.push((h(2), id, Command::Close)),
        Some(f) => {
            out.push((h(2), id.clone(), Command::FollowUp(f)));
            out.push((h(3), id, Command::Close));
        }
    }
}

fn r(id: &'static str, who: &'static str, at: NaiveDateTime) -> Receipt {
    Receipt {
        id,
        who,
        at,
        channel: "hotline",
        waybill: Box::leak(format!("WB-{id}").into_boxed_str()),
    }
}

/// A resolved complaint of the quick flow, one row each: id, complainant, received
/// (month, day, hour), channel, waybill (`None`: its own), minutes to acknowledge, category,
/// tier, primary and collaborating departments, hours awaiting agreement, hours from receipt
/// to the result, the satisfaction score confirmed (all satisfied), the follow-up call's.
type Quick<'a> = (
    &'a str,
    &'a str,
    (u32, u32, u32),
    &'a str,
    Option<&'a str>,
    i64,
    &'a str,
    &'a str,
    &'a str,
    &'a [&'a str],
    i64,
    i64,
    u8,
    Option<u8>,
);

const HUB_BACKLOG: &str = "logistics/delay/hub-backlog";
const WEATHER: &str = "logistics/delay/weather";
const LOSS: &str = "logistics/loss";
const DAMAGE: &str = "logistics/damage";
const ATTITUDE: &str = "service/attitude";

#[rustfmt::skip]
const QUICK: &[Quick<'static>] = &[
    // September and October: the previous period, and history for repeats.
    ("S01", "c06", (9, 20, 9),   "hotline", None, 10, ATTITUDE,    "general", "customer-service", &[], 0, 10, 4, None),
    ("O01", "c40", (10, 10, 9),  "hotline", None, 10, HUB_BACKLOG, "general", "hub",      &[], 0, 10, 4, None),
    ("O02", "c05", (10, 20, 9),  "hotline", None, 10, LOSS,        "general", "claims",   &[], 0, 10, 4, None),
    ("O03", "c41", (10, 25, 9),  "hotline", None, 10, DAMAGE,      "general", "outlet",   &[], 0, 10, 4, None),
    ("O04", "c42", (10, 28, 9),  "hotline", None, 10, HUB_BACKLOG, "general", "hub",      &[], 0, 10, 4, None),
    // November, general.
    ("N01", "c01", (11, 2, 9),   "hotline", None, 10, HUB_BACKLOG, "general", "hub",      &[], 2, 20, 5, None),
    ("N02", "c02", (11, 3, 10),  "hotline", None, 20, HUB_BACKLOG, "general", "hub",      &[], 0, 10, 4, None),
    ("N03", "c03", (11, 4, 9),   "hotline", None, 40, HUB_BACKLOG, "general", "hub",      &["outlet"], 1, 30, 4, None),
    ("N04", "c04", (11, 5, 14),  "hotline", None, 5,  WEATHER,     "general", "hub",      &[], 0, 8, 5, None),
    ("N05", "c05", (11, 6, 9),   "hotline", Some("WB-SHARED"), 15, LOSS, "general", "claims", &[], 3, 40, 3, None),
    ("N06", "c06", (11, 9, 9),   "hotline", None, 10, DAMAGE,      "general", "outlet",   &[], 0, 12, 4, None),
    ("N07", "c07", (11, 10, 11), "hotline", None, 70, DAMAGE,      "general", "outlet",   &["hub"], 0, 26, 3, None),
    ("N08", "c08", (11, 11, 9),  "hotline", None, 25, ATTITUDE,    "general", "outlet",   &[], 1, 9, 5, None),
    ("N09", "c09", (11, 12, 9),  "hotline", None, 10, HUB_BACKLOG, "general", "hub",      &[], 0, 60, 2, None),
    ("N10", "c10", (11, 13, 9),  "hotline", None, 10, HUB_BACKLOG, "general", "hub",      &[], 0, 10, 4, None),
    ("N11", "c01", (11, 16, 9),  "hotline", None, 10, HUB_BACKLOG, "general", "hub",      &[], 0, 10, 2, None),
    ("N12", "c12", (11, 17, 9),  "hotline", Some("WB-SHARED"), 10, LOSS, "general", "claims", &["customer-service"], 0, 12, 4, None),
    ("N26", "c26", (11, 26, 9),  "app",     None, 10, HUB_BACKLOG, "general", "hub",      &[], 0, 10, 5, None),
    ("N27", "c27", (11, 26, 10), "app",     None, 35, DAMAGE,      "general", "outlet",   &[], 0, 10, 4, None),
    ("N28", "c28", (11, 27, 13), "counter", None, 10, LOSS,        "general", "claims",   &[], 0, 10, 4, None),
    ("N29", "c29", (11, 28, 9),  "counter", None, 10, WEATHER,     "general", "hub",      &[], 0, 10, 5, None),
    ("N30", "c30", (11, 2, 15),  "hotline", None, 10, ATTITUDE,    "general", "customer-service", &[], 0, 10, 4, None),
    // November, major: follow-up calls.
    ("N13", "c13", (11, 18, 9),  "hotline", None, 10, LOSS,        "major", "claims",     &[], 0, 10, 4, Some(5)),
    ("N14", "c14", (11, 19, 9),  "hotline", None, 20, DAMAGE,      "major", "outlet",     &["claims"], 0, 31, 3, Some(4)),
    ("N16", "c16", (11, 23, 9),  "hotline", None, 10, LOSS,        "major", "claims",     &[], 5, 20, 5, Some(5)),
    ("N17", "c17", (11, 24, 9),  "hotline", None, 10, ATTITUDE,    "major", "customer-service", &[], 0, 8, 4, Some(4)),
];

fn script() -> Vec<Item> {
    let mut s = Vec::new();
    let out = &mut s;
    let yes = |n| sat(true, n);
    for &(
        id,
        who,
        (month, day, hour),
        channel,
        waybill,
        ack,
        category,
        tier,
        primary,
        collaborating,
        pause,
        feedback,
        score,
        follow_up,
    ) in QUICK
    {
        let mut receipt = r(id, who, local(month, day, hour));
        receipt.channel = channel;
        if let Some(w) = waybill {
            receipt.waybill = w;
        }
        let departments = (primary, collaborating);
        quick(
            out,
            receipt,
            ack,
            category,
            tier,
            departments,
            pause,
            feedback,
            yes(score),
            follow_up.map(yes),
        );
    }

    // N15: the follow-up call finds the guest unsatisfied: reopened, resolved again.
    let n15 = r("N15", "c15", local(11, 20, 9));
    let t15 = n15.at;
    let id = receive(out, &n15);
    triage_and_route(out, &id, t15, 10, WEATHER, "major", "hub", &[]);
    resolve(out, &id, t15, 3, 0, 10);
    out.push((
        t15 + Duration::hours(11),
        id.clone(),
        Command::ConfirmSatisfaction(yes(4)),
    ));
    out.push((
        t15 + Duration::hours(12),
        id.clone(),
        Command::FollowUp(sat(false, 1)),
    ));
    resolve(out, &id, t15, 13, 0, 16);
    out.push((
        t15 + Duration::hours(17),
        id.clone(),
        Command::ConfirmSatisfaction(yes(4)),
    ));
    out.push((
        t15 + Duration::hours(18),
        id.clone(),
        Command::FollowUp(yes(4)),
    ));
    out.push((t15 + Duration::hours(19), id, Command::Close));

    // November, invalid: explained (two accepted, one not yet).
    for (n, who, day, cat, accepted) in [
        ("N18", "c18", 5, ATTITUDE, true),
        ("N19", "c19", 14, WEATHER, true),
        ("N20", "c20", 21, LOSS, false),
    ] {
        let rc = r(n, who, local(11, day, 10));
        let t0 = rc.at;
        let id = receive(out, &rc);
        out.push((t0 + Duration::minutes(10), id.clone(), Command::Acknowledge));
        let triage = Command::Triage {
            category: CategoryPath::parse(cat).unwrap(),
            tier: None,
            validity: Validity::Invalid {
                reason: InvalidReason::Misunderstanding,
            },
        };
        out.push((t0 + Duration::hours(1), id.clone(), triage));
        let explain = Command::Explain {
            text: "not ours".into(),
        };
        out.push((t0 + Duration::hours(2), id.clone(), explain));
        if accepted {
            out.push((t0 + Duration::hours(3), id, Command::AcceptExplanation));
        }
    }

    // November, withdrawn: N21 after acknowledgement, N22 before (its acknowledge clock had
    // already breached at 11:00).
    let id = receive(out, &r("N21", "c21", local(11, 7, 10)));
    out.push((
        local(11, 7, 10) + Duration::minutes(10),
        id.clone(),
        Command::Acknowledge,
    ));
    out.push((local(11, 7, 11), id, Command::Withdraw { reason: None }));
    let id = receive(out, &r("N22", "c22", local(11, 25, 10)));
    out.push((local(11, 25, 13), id, Command::Withdraw { reason: None }));

    // November, still open on 1 December.
    let n23 = r("N23", "c23", local(11, 27, 9));
    let id = receive(out, &n23);
    triage_and_route(out, &id, n23.at, 10, HUB_BACKLOG, "general", "hub", &[]);
    let n24 = r("N24", "c24", local(11, 29, 9));
    let id = receive(out, &n24);
    triage_and_route(out, &id, n24.at, 10, DAMAGE, "general", "outlet", &[]);
    receive(out, &r("N25", "c25", local(11, 30, 22)));

    s.sort_by_key(|i| i.0);
    s
}

fn policy() -> Policy {
    Policy::from_toml_str(include_str!("fixture/policy.toml")).unwrap()
}

/// Runs the script on `store`: every hour (and before each command) the engine ticks.
fn run(store: Arc<dyn plaint_core::DynStore>) -> Arc<dyn plaint_core::DynStore> {
    let utc = |t: NaiveDateTime| Shanghai.from_local_datetime(&t).unwrap().to_utc();
    let clock = Arc::new(ManualClock::new(utc(local(9, 1, 0))));
    let engine = Engine::builder(Arc::clone(&store), policy())
        .clock(Arc::clone(&clock))
        .build();
    let mut hour = local(9, 1, 0);
    for (i, (at, id, command)) in script().into_iter().enumerate() {
        while hour <= at {
            clock.set(utc(hour));
            engine.tick().wait().unwrap();
            hour += Duration::hours(1);
        }
        clock.set(utc(at));
        engine.tick().wait().unwrap();
        let kind = command.kind();
        engine
            .execute(
                CommandId::new(format!("s{i}")).unwrap(),
                &id,
                command,
                &testing::agent(),
            )
            .wait()
            .unwrap_or_else(|e| panic!("{id} {kind} at {at}: {e}"));
    }
    while hour <= local(12, 1, 0) {
        clock.set(utc(hour));
        engine.tick().wait().unwrap();
        hour += Duration::hours(1);
    }
    store
}

fn november(store: &dyn plaint_core::DynStore) -> Report {
    Report::from_store(store, &policy(), Period::month(2026, 11).unwrap())
        .wait()
        .unwrap()
}

fn counts(pairs: &[(&str, u64)]) -> std::collections::BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// A compliance row; `handled` is (stopped cycles, median, 90th percentile in minutes).
fn row(
    clock: &str,
    tier: &str,
    c: [u64; 6],
    paused_minutes: i64,
    handled: (u64, i64, i64),
) -> Compliance {
    let mut row = Compliance::default();
    (
        row.handling.count,
        row.handling.median_minutes,
        row.handling.p90_minutes,
    ) = (handled.0, Some(handled.1), Some(handled.2));
    row.clock = clock.into();
    row.tier = tier.into();
    [
        row.cycles,
        row.met,
        row.early,
        row.breached,
        row.running,
        row.warned,
    ] = c;
    row.paused_minutes = paused_minutes;
    row
}

#[test]
fn every_figure_of_the_fixture_month() {
    let store = run(Arc::new(plaint_memory::MemoryStore::new()));
    let r = november(&*store);
    assert_eq!(
        (r.policy.as_str(), r.zone.as_str()),
        ("fixture-express", "Asia/Shanghai")
    );
    assert_eq!(r.received, 30);
    // Valid: N01–N17, N23, N24, N26–N30; invalid: N18–N20; not judged: N21, N22, N25.
    assert_eq!(
        (r.validity.valid, r.validity.invalid, r.validity.undecided),
        (24, 3, 3)
    );
    // Closed: 22 resolved + N18, N19 (explanation accepted); N20 explained; N21, N22
    // withdrawn; N23, N24 under investigation; N25 not yet acknowledged.
    let stages = [
        ("closed", 24),
        ("explained", 1),
        ("investigating", 2),
        ("received", 1),
        ("withdrawn", 2),
    ];
    assert_eq!(r.stages, counts(&stages));
    // hub-backlog: N01 N02 N03 N09 N10 N11 N23 N26; weather: N04 N15 N19 N29;
    // loss: N05 N12 N13 N16 N20 N28; damage: N06 N07 N14 N24 N27; attitude: N08 N17 N18 N30.
    let categories = [
        ("logistics", 23),
        ("logistics/damage", 5),
        ("logistics/delay", 12),
        ("logistics/delay/hub-backlog", 8),
        ("logistics/delay/weather", 4),
        ("logistics/loss", 6),
        ("service", 4),
        ("service/attitude", 4),
    ];
    assert_eq!(r.categories, counts(&categories));
    let departments = [
        ("claims", 5),
        ("customer-service", 2),
        ("hub", 11),
        ("outlet", 6),
    ];
    assert_eq!(r.departments, counts(&departments));
    // The invalid three take the default tier.
    assert_eq!(r.tiers, counts(&[("general", 22), ("major", 5)]));
    assert_eq!(
        r.channels,
        counts(&[("app", 2), ("counter", 2), ("hotline", 26)])
    );

    // Acknowledge (1 h, warned at 30 min; every acknowledgement came before triage, so on the
    // general target): N03 (40 min) and N27 (35) warned, N07 (70) warned and breached;
    // untriaged: N21 met, N22 and N25 never acknowledged (warned and breached at the hour).
    // Resolution (48 h general, 24 h major, from routing, less the hours awaiting agreement):
    // N09 used 58 h and N23 is past its deadline (breached), N24 still running; N14 used 29 h
    // of 24 (breached); N15 has a second cycle after its reopen. Paused: N01 2 h, N03 1 h,
    // N05 3 h, N08 1 h; N16 5 h.
    //
    // Handled in (stopped cycles, median, 90th percentile; nearest rank). Acknowledge:
    // general 5, 10 ×15, 15, 20, 25, 35, 40, 70 min (the first responses below without the
    // majors and N21): the 11th is 10, the 20th 35; major N13 10, N14 20, N15 10, N16 10,
    // N17 10: the 3rd is 10, the 5th 20; untriaged N21 10 (acknowledged) and N22 180
    // (withdrawn at 13:00), N25 still running. Resolution (routing at +2 h to feedback, less
    // the pause): general N04 N08 6 h; N02 N10 N11 N26 N27 N28 N29 N30 8 h; N06 N12 10 h;
    // N01 16, N07 24, N03 27, N05 35, N09 58 h (17; N23 and N24 still running): the 9th is
    // 8 h, the 16th 35 h; major N15 4 h (its second cycle) and 8 h, N17 6, N13 8, N16 13,
    // N14 29 h: the 3rd is 8 h, the 6th 29 h.
    let compliance = vec![
        row(
            "acknowledge",
            "general",
            [22, 21, 0, 1, 0, 3],
            0,
            (22, 10, 35),
        ),
        row("acknowledge", "major", [5, 5, 0, 0, 0, 0], 0, (5, 10, 20)),
        row(
            "acknowledge",
            "untriaged",
            [3, 1, 0, 2, 0, 2],
            0,
            (2, 10, 180),
        ),
        row(
            "resolution",
            "general",
            [19, 16, 0, 2, 1, 0],
            420,
            (17, 480, 2100),
        ),
        row(
            "resolution",
            "major",
            [6, 5, 0, 1, 0, 0],
            300,
            (6, 480, 1740),
        ),
    ];
    assert_eq!(r.compliance, compliance);

    // First response of the 28 acknowledged: 5, 10 ×20, 15, 20, 20, 25, 35, 40, 70 minutes:
    // the 14th is 10, the 26th is 35.
    let d = &r.first_response;
    assert_eq!(
        (d.count, d.median_minutes, d.p90_minutes),
        (28, Some(10), Some(35))
    );
    // Receipt to closing of the 24 closed, in hours: 3 3 10 11 11 12×8 13 14 14 19 22 23 28
    // 32 34 42 62: the 12th is 12 h, the 22nd is 34 h.
    let d = &r.resolution;
    assert_eq!(
        (d.count, d.median_minutes, d.p90_minutes),
        (24, Some(720), Some(2040))
    );

    // 22 results told, all confirmed satisfied (N15's latest answer); 5 follow-up calls, the
    // latest of each satisfied. Scores: 87 from confirmations + 22 from follow-ups = 109 / 27.
    let s = &r.satisfaction;
    assert_eq!((s.feedback_given, s.satisfied, s.unsatisfied), (22, 22, 0));
    assert_eq!(
        (s.follow_up_satisfied, s.follow_up_unsatisfied, s.scored),
        (5, 0, 27)
    );
    assert_eq!(s.mean_score, Some(109.0 / 27.0));

    // N11 repeats N01 (c01, 14 days), N05 repeats O02 (c05, 17 days; N06 and S01 are 50 days
    // apart), N12 repeats N05's waybill (11 days).
    assert_eq!(r.repeats.window_days, 30);
    assert_eq!((r.repeats.same_complainant, r.repeats.same_order), (2, 1));
    assert_eq!(r.repeats.complaints, ["N05", "N11", "N12"]);

    // October: hub-backlog O01 O04, loss O02, damage O03.
    let recurring: Vec<(&str, u64, u64, i64)> = r
        .recurring
        .iter()
        .map(|c| (c.category.as_str(), c.count, c.previous, c.change()))
        .collect();
    assert_eq!(
        recurring,
        [
            ("logistics/delay/hub-backlog", 8, 2, 6),
            ("logistics/loss", 6, 1, 5),
            ("logistics/damage", 5, 1, 4)
        ]
    );

    // Points per complaint: general −1, major −5, −2 per breached cycle; with collaborators
    // the primary carries 70 %. hub: 7 × −1 (N01 N02 N04 N10 N11 N26 N29), N03 −0.7, N09 −3,
    // N15 −5, N23 −3, and 30 % of N07's −3 = −19.6. outlet: N06 N08 N24 N27 −1 each, 70 % of
    // N07's −3, 70 % of N14's −7, 30 % of N03's −1 = −11.3. claims: N05 N28 −1, N13 N16 −5,
    // 70 % of N12's −1, 30 % of N14's −7 = −14.8. customer-service: N17 −5, N30 −1, 30 % of
    // N12's −1 = −6.3. Cycles decided / met: two per resolved complaint, three for N15,
    // one (acknowledge) for N24, whose resolution runs.
    let scores: Vec<(&str, u64, u64, u64, u64, f64)> = r
        .scores
        .iter()
        .map(|d| {
            (
                d.department.as_str(),
                d.complaints,
                d.breaches,
                d.decided_cycles,
                d.met_cycles,
                d.points,
            )
        })
        .collect();
    assert_eq!(
        scores,
        [
            ("claims", 6, 1, 12, 11, -14.8),
            ("customer-service", 3, 0, 6, 6, -6.3),
            ("hub", 12, 3, 25, 22, -19.6),
            ("outlet", 7, 2, 13, 11, -11.3)
        ]
    );

    // Each breach's rung comes 4 h after it: N09 (breached 14th 11:00), N14 (20th 11:00),
    // N23 (29th 11:00).
    type Entry<'a> = (String, &'a str, u32, Option<&'a str>, Option<&'a str>);
    let ledger: Vec<Entry<'_>> = r
        .ledger
        .iter()
        .map(|e| {
            let at = e.at.with_timezone(&Shanghai).format("%d %H:%M").to_string();
            (
                at,
                e.complaint.as_str(),
                e.rung,
                e.tier.as_deref(),
                e.department.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        ledger,
        [
            (
                "14 15:00".to_owned(),
                "N09",
                1,
                Some("general"),
                Some("hub")
            ),
            (
                "20 15:00".to_owned(),
                "N14",
                1,
                Some("major"),
                Some("outlet")
            ),
            (
                "29 15:00".to_owned(),
                "N23",
                1,
                Some("general"),
                Some("hub")
            )
        ]
    );
    assert!(r.ledger.iter().all(|e| e.clock == "resolution"));

    // Received per day, and closed per day (closing instants worked out per complaint, e.g.
    // N04 received the 5th 14:00 + 10 h = the 6th 00:00).
    let received: Vec<(u32, u64)> = r
        .daily
        .iter()
        .filter(|d| d.received > 0)
        .map(|d| (d.date.day(), d.received))
        .collect();
    let two = [2, 5, 26, 27];
    let want: Vec<(u32, u64)> = [
        2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28,
        29, 30,
    ]
    .into_iter()
    .map(|d| (d, if two.contains(&d) { 2 } else { 1 }))
    .collect();
    assert_eq!(received, want);
    let closed: Vec<(u32, u64)> = r
        .daily
        .iter()
        .filter(|d| d.closed > 0)
        .map(|d| (d.date.day(), d.closed))
        .collect();
    assert_eq!(
        closed,
        [
            (3, 3),
            (5, 2),
            (6, 1),
            (8, 1),
            (9, 1),
            (11, 2),
            (13, 1),
            (14, 2),
            (16, 1),
            (17, 1),
            (18, 1),
            (20, 1),
            (21, 1),
            (24, 2),
            (26, 2),
            (28, 2)
        ]
    );
    assert_eq!(r.daily.len(), 30);
}

#[test]
fn memory_and_file_stores_give_the_same_report() {
    let memory = november(&*run(Arc::new(plaint_memory::MemoryStore::new())));
    let dir = tempfile::tempdir().unwrap();
    let file = plaint_file::FileStore::open(dir.path(), plaint_file::Options::new())
        .unwrap()
        .store;
    let from_file = november(&*run(Arc::new(file)));
    assert_eq!(memory, from_file);
    // And after a reopen, from what is on disk.
    let reopened = plaint_file::FileStore::open(dir.path(), plaint_file::Options::new())
        .unwrap()
        .store;
    assert_eq!(november(&reopened), memory);
}

#[test]
fn the_outputs_carry_the_figures() {
    let r = november(&*run(Arc::new(plaint_memory::MemoryStore::new())));
    let md = r.to_markdown();
    assert!(
        md.contains("30 complaints received: 24 valid, 3 invalid, 3 not yet judged."),
        "{md}"
    );
    assert!(md.contains("| hub | 12 | 3 | 88.0 % | -19.60 |"), "{md}");
    assert!(
        md.contains("| closing | 24 | 12 h 00 min | 1 d 10 h 00 min |"),
        "{md}"
    );
    let csv = r.to_csv();
    assert!(csv.starts_with("section,key,metric,value\r\n"));
    assert!(csv.contains("compliance,resolution/general,paused_minutes,420\r\n"));
    assert!(csv.contains("score,outlet,points,-11.30\r\n"));
    assert!(csv.contains("daily,2026-11-03,closed,3\r\n"));
    let json: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(json["received"], 30);
    let back: Report = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
    for chart in Chart::ALL {
        let svg = r.svg(chart);
        assert!(
            svg.starts_with("<svg") && svg.ends_with("</svg>\n"),
            "{chart:?}"
        );
        assert_eq!(svg.matches("<svg").count(), svg.matches("</svg>").count());
    }
    // One bar per department, per recurring category (plus its grey twin), per day.
    let bars = |c| r.svg(c).matches("<rect").count() - 1;
    assert_eq!(bars(Chart::Compliance), 4);
    assert_eq!(bars(Chart::Categories), 6);
    assert_eq!(bars(Chart::Trend), 30);
    assert!(r.svg(Chart::Compliance).contains(">88 % of 25</text>"));
}

#[test]
fn the_trend_across_months() {
    let store = run(Arc::new(plaint_memory::MemoryStore::new()));
    let months: Vec<Report> = (9..=11)
        .map(|m| {
            Report::from_store(&*store, &policy(), Period::month(2026, m).unwrap())
                .wait()
                .unwrap()
        })
        .collect();
    let received: Vec<u64> = months.iter().map(|r| r.received).collect();
    assert_eq!(received, [1, 4, 30], "S01; O01–O04; N01–N30");
    let svg = plaint_report::months_svg(&months);
    assert_eq!(svg.matches("<rect").count(), 1 + 3);
    // September and October met every limit; November met 48 of the 54 decided cycles
    // (acknowledge 27 of 30, resolution 21 of 24 decided): 89 %.
    assert!(
        svg.contains(">100 %</text>") && svg.contains(">89 %</text>"),
        "{svg}"
    );
    assert!(svg.contains(">2026-09</text>") && svg.contains(">2026-11</text>"));
}

#[test]
fn an_empty_period_reports_nothing_and_still_renders() {
    let store = plaint_memory::MemoryStore::new();
    let r = Report::from_store(&store, &policy(), Period::month(2027, 2).unwrap())
        .wait()
        .unwrap();
    assert_eq!(r.received, 0);
    assert_eq!(r.first_response.median_minutes, None);
    assert_eq!(r.daily.len(), 28);
    assert!(r.to_markdown().contains("No entries."));
    for chart in Chart::ALL {
        assert!(r.svg(chart).ends_with("</svg>\n"));
    }
}
