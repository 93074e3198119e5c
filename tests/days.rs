//! Day-based clock targets count days as the law does (Civil Code of the PRC arts. 201–204):
//! the start's date does not count, a period ends at the close of business of its last day,
//! a last day the unit does not open gives way to the next one it does. The clocks' due
//! instants are compared with an independent, date-by-date reference (`support/legal_days.rs`)
//! on random calendars with holidays and make-up days, and shown on the cases issue 13 names.
//! The loader's warning about span windows on a business calendar is tested here too.

#[path = "support/legal_days.rs"]
mod legal_days;

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use legal_days::legal;
use plaint_core::calendar::{CalendarDef, Calendars, DayOverride, Hours, WeekHours};
use plaint_core::sla::{ClockDef, Schedule};
use plaint_core::testing;
use plaint_core::{CalendarKey, Command, Event, Policy, Timestamp};
use proptest::prelude::*;
use std::sync::Arc;

/// `default` proptest cases, or `PROPTEST_CASES` when set.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The sample policy with calendar `def` and one clock per target, each started by the
/// intake on the default tier ("general").
fn policy_with(def: CalendarDef, targets: &[(&str, String)]) -> Policy {
    static BASE: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    let mut policy = BASE.get_or_init(testing::policy).clone();
    policy.calendars = Calendars::new(vec![def]).expect("a calendar that builds");
    policy.clocks = targets
        .iter()
        .map(|(key, target)| {
            toml::from_str::<ClockDef>(&format!(
                "key = \"{key}\"\nstart_on = [\"received\"]\nstop_on = [\"acknowledged\"]\n\
                 calendar = \"{}\"\ntargets = {{ general = {{ {target} }} }}",
                policy.calendars.defs()[0].key
            ))
            .expect("a clock")
        })
        .collect();
    policy
}

/// The schedules of the clocks the intake starts at `start`, by clock key.
fn started(policy: &Policy, start: Timestamp) -> Vec<(String, Schedule)> {
    let events = testing::Scenario::new(policy.clone())
        .at(start)
        .when(
            &testing::agent(),
            Command::Receive(Arc::new(testing::intake(start))),
        )
        .result()
        .expect("the intake is accepted");
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::ClockStarted {
                clock, schedule, ..
            } => Some((clock.to_string(), schedule)),
            _ => None,
        })
        .collect()
}

fn schedule<'a>(all: &'a [(String, Schedule)], key: &str) -> &'a Schedule {
    &all.iter().find(|(k, _)| k == key).expect("started").1
}

fn hours(from: &str, to: &str) -> Hours {
    Hours {
        from: from.parse().unwrap(),
        to: to.parse().unwrap(),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Shanghai local time.
fn sh(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> Timestamp {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, hh, mm, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// An office open 08:30–17:30 Monday to Friday in Shanghai, with the 2026 National Day
/// holidays and the make-up Saturday before them (调休).
fn office() -> CalendarDef {
    let day = vec![hours("08:30:00", "17:30:00")];
    CalendarDef {
        key: CalendarKey::new("office").unwrap(),
        time_zone: "Asia/Shanghai".into(),
        always_open: false,
        week: WeekHours {
            mon: day.clone(),
            tue: day.clone(),
            wed: day.clone(),
            thu: day.clone(),
            fri: day,
            ..WeekHours::default()
        },
        holidays: [1, 2, 5, 6, 7].map(|d| date(2026, 10, d)).to_vec(),
        overrides: vec![DayOverride {
            date: date(2026, 9, 26),
            hours: vec![hours("08:30:00", "17:30:00")],
        }],
    }
}

fn deadline(policy: &Policy, start: Timestamp, key: &str) -> Timestamp {
    schedule(&started(policy, start), key)
        .deadline
        .expect("a deadline")
}

#[test]
fn one_working_day_from_before_opening_ends_at_the_next_days_close() {
    let p = policy_with(office(), &[("reply", "working_days = 1".into())]);
    // Monday 2026-11-16 08:00, before the 08:30 opening: Monday does not count.
    let due = deadline(&p, sh(2026, 11, 16, 8, 0), "reply");
    assert_eq!(due, sh(2026, 11, 17, 17, 30), "Tuesday's closing time");
}

#[test]
fn working_days_from_late_afternoon_end_at_a_closing_time() {
    let p = policy_with(office(), &[("reply", "working_days = 3".into())]);
    // Friday 15:00 and Friday 17:45 (after closing) both: Mon, Tue, Wed; Wednesday 17:30.
    for start in [sh(2026, 11, 20, 15, 0), sh(2026, 11, 20, 17, 45)] {
        assert_eq!(deadline(&p, start, "reply"), sh(2026, 11, 25, 17, 30));
    }
    // Across the National Day holidays, counting the make-up Saturday: from Friday 25 Sep
    // the days are Sat 26, Mon 28, Tue 29.
    assert_eq!(
        deadline(&p, sh(2026, 9, 25, 10, 0), "reply"),
        sh(2026, 9, 29, 17, 30)
    );
}

#[test]
fn a_last_day_on_a_holiday_moves_to_the_next_working_day() {
    let p = policy_with(office(), &[("refund", "days = 7".into())]);
    // Thursday 24 Sep + 7 days is Thursday 1 Oct, a holiday; so are the 2nd, 5th to 7th,
    // and the 3rd and 4th are a weekend: the period ends on Thursday 8 Oct at closing time.
    assert_eq!(
        deadline(&p, sh(2026, 9, 24, 11, 0), "refund"),
        sh(2026, 10, 8, 17, 30)
    );
    // A last day that is a working day ends at its closing time, whatever the start's hour.
    assert_eq!(
        deadline(&p, sh(2026, 11, 16, 23, 59), "refund"),
        sh(2026, 11, 23, 17, 30)
    );
    // Saturday's last day moves to Monday.
    assert_eq!(
        deadline(&p, sh(2026, 11, 14, 12, 0), "refund"),
        sh(2026, 11, 23, 17, 30)
    );
}

#[test]
fn a_day_window_counts_dates_not_multiples_of_24_hours() {
    let p = policy_with(
        office(),
        &[
            ("follow-up", "day_window = { from = 5, to = 7 }".into()),
            (
                "old",
                "window = { not_before = \"5d\", not_after = \"7d\" }".into(),
            ),
        ],
    );
    // The result on Monday 16 Nov at 16:00: day 5 is Saturday 21, day 7 Monday 23.
    let all = started(&p, sh(2026, 11, 16, 16, 0));
    let w = schedule(&all, "follow-up");
    assert_eq!(w.not_before, Some(sh(2026, 11, 21, 0, 0)));
    assert_eq!(w.deadline, Some(sh(2026, 11, 23, 17, 30)));
    // The span window on the same calendar counts 120 and 168 hours of open time (9 a
    // day): weeks later.
    let old = schedule(&all, "old");
    assert!(old.deadline.unwrap() > sh(2026, 12, 7, 0, 0), "{old:?}");
}

#[test]
fn a_day_window_flags_a_call_before_day_5_and_breaches_after_day_7_closes() {
    use plaint::MemoryStore;
    use plaint_core::blocking::Engine;
    use plaint_core::sla::ClockOutcome;
    use plaint_core::{CommandId, ComplaintId, ManualClock};
    let p = policy_with(
        office(),
        &[("follow-up", "day_window = { from = 5, to = 7 }".into())],
    );
    let start = sh(2026, 11, 16, 16, 0);
    for (at, outcome) in [
        (sh(2026, 11, 20, 23, 59), ClockOutcome::Early),
        (sh(2026, 11, 21, 0, 0), ClockOutcome::Met),
        (sh(2026, 11, 23, 17, 30), ClockOutcome::Met),
        (sh(2026, 11, 23, 17, 31), ClockOutcome::Breached),
    ] {
        let clock = Arc::new(ManualClock::new(start));
        let e = Engine::builder(Arc::new(MemoryStore::new()), p.clone())
            .clock(Arc::clone(&clock))
            .build();
        let id = ComplaintId::new("D").unwrap();
        let receive = Command::Receive(Arc::new(testing::intake(start)));
        e.execute(
            CommandId::new("1").unwrap(),
            &id,
            receive,
            &testing::agent(),
        )
        .unwrap();
        clock.set(at);
        // The clock stops on the acknowledgement, standing in for the follow-up call.
        let c = e
            .execute(
                CommandId::new("2").unwrap(),
                &id,
                Command::Acknowledge,
                &testing::agent(),
            )
            .unwrap();
        assert_eq!(
            c.clock("follow-up").unwrap().outcome,
            Some(outcome),
            "acted at {at}"
        );
    }
}

#[test]
fn the_same_time_of_day_reading_is_opt_in_and_exact() {
    let p = policy_with(
        office(),
        &[
            ("same", "working_days_same_time = 1".into()),
            ("three", "working_days_same_time = 3".into()),
        ],
    );
    // From Monday 08:00 (closed): Tuesday 08:00 itself, not Monday's closing time.
    let all = started(&p, sh(2026, 11, 16, 8, 0));
    assert_eq!(
        schedule(&all, "same").deadline,
        Some(sh(2026, 11, 17, 8, 0))
    );
    // From Friday 15:00: Wednesday 15:00.
    let all = started(&p, sh(2026, 11, 20, 15, 0));
    assert_eq!(
        schedule(&all, "three").deadline,
        Some(sh(2026, 11, 25, 15, 0))
    );
}

#[test]
fn an_always_open_unit_s_days_end_at_midnight() {
    let mut def = office();
    def.always_open = true;
    let p = policy_with(
        def,
        &[("d", "days = 1".into()), ("w", "working_days = 2".into())],
    );
    let all = started(&p, sh(2026, 11, 16, 16, 0));
    // 24:00 of Tuesday (Wednesday 00:00) and of Wednesday: holidays do not close it.
    assert_eq!(schedule(&all, "d").deadline, Some(sh(2026, 11, 18, 0, 0)));
    assert_eq!(schedule(&all, "w").deadline, Some(sh(2026, 11, 19, 0, 0)));
}

#[test]
fn a_night_shift_s_day_ends_the_next_morning() {
    let mut def = office();
    def.week = WeekHours {
        mon: vec![hours("20:00:00", "06:00:00")],
        wed: vec![hours("20:00:00", "06:00:00")],
        ..WeekHours::default()
    };
    let p = policy_with(def, &[("w", "working_days = 1".into())]);
    // From Monday 21:00 the next working day is Wednesday; its shift ends Thursday 06:00.
    assert_eq!(
        deadline(&p, sh(2026, 11, 16, 21, 0), "w"),
        sh(2026, 11, 19, 6, 0)
    );
}

#[test]
fn hours_that_a_dst_change_skips_are_no_opening() {
    let mut def = office();
    def.time_zone = "Europe/Berlin".into();
    def.week = WeekHours {
        sun: vec![hours("02:00:00", "02:30:00")],
        mon: vec![hours("09:00:00", "17:00:00")],
        ..WeekHours::default()
    };
    let p = policy_with(
        def,
        &[("w", "working_days = 1".into()), ("d", "days = 1".into())],
    );
    let utc = |s: &str| s.parse::<Timestamp>().unwrap();
    // Sunday 29 March 2026 goes from 02:00 straight to 03:00: its 02:00–02:30 never happens,
    // so the next day the unit opens is Monday (17:00 CEST).
    let all = started(&p, utc("2026-03-28T09:00:00Z"));
    assert_eq!(
        schedule(&all, "w").deadline,
        Some(utc("2026-03-30T15:00:00Z"))
    );
    assert_eq!(
        schedule(&all, "d").deadline,
        Some(utc("2026-03-30T15:00:00Z"))
    );
    // A week later the Sunday opens, and closes at 02:30 CEST.
    let all = started(&p, utc("2026-04-04T08:00:00Z"));
    assert_eq!(
        schedule(&all, "w").deadline,
        Some(utc("2026-04-05T00:30:00Z"))
    );
}

#[test]
fn day_counts_at_the_ends_of_time_do_not_panic() {
    use chrono::DateTime;
    let mut always = office();
    always.always_open = true;
    for def in [office(), always] {
        let cal = plaint_core::BusinessCalendar::new(&def).unwrap();
        for t in [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            sh(2100, 12, 31, 23, 0),
        ] {
            for n in [0, 1, 36_500, u32::MAX] {
                let wd = cal.end_of_working_days(t, n);
                let d = cal.end_of_days(t, n);
                let s = cal.start_of_day(t, n);
                if n > 0 && t.timestamp() > 0 && t.timestamp() < 16_000_000_000 {
                    assert!(wd > t && d > t && s > t, "{t} {n}");
                }
            }
        }
    }
}

// ---- Against the reference, on random calendars ------------------------------------------

const ZONES: [&str; 4] = ["Europe/Berlin", "America/New_York", "Asia/Shanghai", "UTC"];

fn any_hours() -> impl Strategy<Value = Vec<Hours>> {
    // 0 to 2 intervals of half-hour granularity, 0.5 h to 12 h long (some cross midnight).
    let t = |h: u32| NaiveTime::from_hms_opt((h % 48) / 2, (h % 2) * 30, 0).unwrap();
    proptest::collection::vec((0u32..48, 1u32..24), 0..3).prop_map(move |v| {
        v.into_iter()
            .map(|(a, l)| Hours {
                from: t(a),
                to: t(a + l),
            })
            .collect()
    })
}

fn office_hours() -> impl Strategy<Value = Vec<Hours>> {
    // Mostly office-like days, sometimes closed, sometimes odd.
    prop_oneof![
        4 => Just(vec![hours("09:00:00", "12:00:00"), hours("13:00:00", "18:00:00")]),
        2 => Just(vec![]),
        3 => any_hours(),
    ]
}

fn date_in_window() -> impl Strategy<Value = NaiveDate> {
    // 2026-03-01 .. 2026-05-20: the spring DST changes in Europe and America.
    (0i64..80).prop_map(|d| date(2026, 3, 1) + Duration::days(d))
}

fn calendar_def() -> impl Strategy<Value = CalendarDef> {
    (
        0usize..4,
        proptest::collection::vec(office_hours(), 7),
        proptest::collection::btree_set(date_in_window(), 0..10),
        proptest::collection::vec((date_in_window(), office_hours()), 0..6),
        0u32..10,
    )
        .prop_filter_map("never open", |(z, week, holidays, overrides, always)| {
            if week.iter().all(Vec::is_empty) {
                return None;
            }
            let [mon, tue, wed, thu, fri, sat, sun] = <[Vec<Hours>; 7]>::try_from(week).ok()?;
            let mut seen = std::collections::BTreeSet::new();
            let overrides = overrides
                .into_iter()
                .filter(|(d, _)| !holidays.contains(d) && seen.insert(*d))
                .map(|(date, hours)| DayOverride { date, hours })
                .collect();
            Some(CalendarDef {
                key: CalendarKey::new("c").unwrap(),
                time_zone: ZONES[z].into(),
                always_open: always == 0,
                week: WeekHours {
                    mon,
                    tue,
                    wed,
                    thu,
                    fri,
                    sat,
                    sun,
                },
                holidays: holidays.into_iter().collect(),
                overrides,
            })
        })
}

fn start_in_window() -> impl Strategy<Value = Timestamp> {
    // Any second from 2026-03-05 for 50 days.
    (0i64..50 * 86_400)
        .prop_map(|s| Utc.with_ymd_and_hms(2026, 3, 5, 0, 0, 0).unwrap() + Duration::seconds(s))
}

proptest! {
    // 10,000 cases by default (issue 13): each builds one calendar and runs one intake
    // through `decide`, starting four clocks; about 30 s in a debug build on a quiet core.
    #![proptest_config(ProptestConfig::with_cases(cases(10_000)))]

    #[test]
    fn day_targets_end_where_the_law_says(
        def in calendar_def(),
        start in start_in_window(),
        working in 1u32..12,
        days in 1u32..20,
        from in 0u32..8,
        len in 0u32..6,
    ) {
        let to = (from + len).max(1);
        let reference = legal(&def);
        let p = policy_with(def.clone(), &[
            ("wd", format!("working_days = {working}")),
            ("d", format!("days = {days}")),
            ("win", format!("day_window = {{ from = {from}, to = {to} }}")),
            ("same", format!("working_days_same_time = {working}")),
        ]);
        let all = started(&p, start);
        prop_assert_eq!(
            schedule(&all, "wd").deadline,
            Some(reference.working_days_end(start, working)),
            "working_days = {}", working
        );
        prop_assert_eq!(
            schedule(&all, "d").deadline,
            Some(reference.days_end(start, days)),
            "days = {}", days
        );
        let win = schedule(&all, "win");
        prop_assert_eq!(win.deadline, Some(reference.days_end(start, to)), "window to {}", to);
        prop_assert_eq!(
            win.not_before,
            Some(reference.day_begins(start, from).max(start)),
            "window from {}", from
        );
        prop_assert_eq!(
            schedule(&all, "same").deadline,
            Some(reference.same_time_working_days(start, working)),
            "working_days_same_time = {}", working
        );
    }
}

// ---- The loader's warning ----------------------------------------------------------------

fn warnings_of(calendar: CalendarDef, target: &str) -> Vec<String> {
    policy_with(calendar, &[("c", target.into())])
        .warnings()
        .into_iter()
        .map(|w| format!("{}: {}", w.path, w.message))
        .collect()
}

#[test]
fn a_span_window_on_a_business_calendar_is_warned_about_with_the_day_form() {
    let w = warnings_of(
        office(),
        "window = { not_before = \"5d\", not_after = \"7d\" }",
    );
    assert_eq!(
        w,
        [
            "clocks[0].targets.general.window: on calendar \"office\" the window counts open \
             time: 5d..7d is 120..168 open hours, not days; for days as the law counts them \
             write `day_window = { from = 5, to = 7 }`"
        ]
    );
    let w = warnings_of(office(), "business = \"3d\"");
    assert_eq!(
        w,
        [
            "clocks[0].targets.general: on calendar \"office\" `business = \"3d\"` is 72 open \
             hours, not 3 days; for days as the law counts them write `working_days = 3` or \
             `days = 3`"
        ]
    );
}

#[test]
fn no_warning_where_days_are_days_or_hours_are_meant() {
    let mut always = office();
    always.always_open = true;
    for (calendar, target) in [
        (
            always,
            "window = { not_before = \"1d\", not_after = \"3d\" }",
        ),
        (office(), "day_window = { from = 5, to = 7 }"),
        (office(), "business = \"16h\""),
        (
            office(),
            "window = { not_before = \"2h\", not_after = \"4h\" }",
        ),
        (office(), "working_days = 2"),
    ] {
        assert_eq!(
            warnings_of(calendar, target),
            Vec::<String>::new(),
            "{target}"
        );
    }
}

#[test]
fn the_shipped_policies_load_without_warnings() {
    for text in [
        include_str!("../examples/policies/express.toml"),
        include_str!("../examples/policies/supermarket.toml"),
        include_str!("../examples/policies/hotel.toml"),
    ] {
        let policy = Policy::from_toml_str(text).expect("a shipped policy loads");
        assert_eq!(policy.warnings(), vec![], "{}", policy.id);
    }
}
