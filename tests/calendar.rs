//! Property tests of business calendars against a naive minute-stepping reference that lives
//! only here: random weekly hours (with night shifts), holidays, overrides, in DST zones.

#[path = "support/naive_calendar.rs"]
mod naive_calendar;

/// `default` proptest cases, or `PROPTEST_CASES` when set (for longer runs).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use naive_calendar::naive;
use plaint_core::calendar::{BusinessCalendar, CalendarDef, DayOverride, Hours, WeekHours};
use plaint_core::{CalendarKey, Timestamp};
use proptest::prelude::*;

const ZONES: [&str; 4] = ["Europe/Berlin", "America/New_York", "Asia/Shanghai", "UTC"];

fn hours(from_half: u32, len_half: u32) -> Hours {
    let t = |h: u32| NaiveTime::from_hms_opt((h % 48) / 2, (h % 2) * 30, 0).unwrap();
    Hours {
        from: t(from_half),
        to: t(from_half + len_half),
    }
}

fn day_hours() -> impl Strategy<Value = Vec<Hours>> {
    // 0 to 2 intervals of half-hour granularity, 0.5 h to 12 h long (some cross midnight).
    proptest::collection::vec((0u32..48, 1u32..24), 0..3)
        .prop_map(|v| v.into_iter().map(|(a, l)| hours(a, l)).collect())
}

fn date_in_window() -> impl Strategy<Value = NaiveDate> {
    // 2026-03-01 .. about 2026-05-10: crosses the spring DST changes in Europe and America.
    (0i64..70).prop_map(|d| NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + Duration::days(d))
}

fn calendar_def() -> impl Strategy<Value = CalendarDef> {
    (
        0usize..4,
        proptest::collection::vec(day_hours(), 7),
        proptest::collection::btree_set(date_in_window(), 0..6),
        proptest::collection::vec((date_in_window(), day_hours()), 0..4),
    )
        .prop_filter_map("never open", |(z, mut week, holidays, overrides)| {
            if week.iter().all(Vec::is_empty) {
                return None;
            }
            let mut take = || week.remove(0);
            let week = WeekHours {
                mon: take(),
                tue: take(),
                wed: take(),
                thu: take(),
                fri: take(),
                sat: take(),
                sun: take(),
            };
            let overrides: Vec<DayOverride> = overrides
                .into_iter()
                .filter(|(d, _)| !holidays.contains(d))
                .map(|(date, hours)| DayOverride { date, hours })
                .collect();
            let mut seen = std::collections::BTreeSet::new();
            let overrides = overrides
                .into_iter()
                .filter(|o| seen.insert(o.date))
                .collect();
            Some(CalendarDef {
                key: CalendarKey::new("c").unwrap(),
                time_zone: ZONES[z].into(),
                always_open: false,
                week,
                holidays: holidays.into_iter().collect(),
                overrides,
            })
        })
}

fn start_in_window() -> impl Strategy<Value = Timestamp> {
    (0i64..60 * 24 * 60)
        .prop_map(|m| Utc.with_ymd_and_hms(2026, 3, 5, 0, 0, 0).unwrap() + Duration::minutes(m))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(200), ..ProptestConfig::default() })]

    // Property 4: the fast functions equal the naive reference.
    #[test]
    fn fast_equals_naive(def in calendar_def(), start in start_in_window(), mins in 0i64..3000) {
        let cal = BusinessCalendar::new(&def).unwrap();
        let reference = naive(&def);
        let d = Duration::minutes(mins);
        let due = cal.add_business(start, d);
        prop_assert_eq!(due, reference.add_business(start, d), "add_business");
        prop_assert_eq!(cal.is_open(start), reference.is_open(start), "is_open");
        let end = start + Duration::hours(mins / 10);
        prop_assert_eq!(cal.business_between(start, end), reference.business_between(start, end));
        let n = (mins % 25) as u32;
        prop_assert_eq!(cal.add_working_days(start, n), reference.add_working_days(start, n));
        let cut = NaiveTime::from_hms_opt((mins % 24) as u32, 0, 0).unwrap();
        prop_assert_eq!(cal.next_cutoff(start, cut), reference.next_cutoff(start, cut));
    }

    // Property 1: the round trip, and where a deadline may land.
    #[test]
    fn add_then_measure_round_trips(def in calendar_def(), start in start_in_window(), mins in 1i64..20_000) {
        let cal = BusinessCalendar::new(&def).unwrap();
        let d = Duration::minutes(mins);
        let due = cal.add_business(start, d);
        prop_assert!(due >= start);
        prop_assert_eq!(cal.business_between(start, due), d);
        prop_assert!(cal.is_open(due) || cal.is_open(due - Duration::seconds(1)),
            "a deadline lies in open time or exactly at an interval's end");
        prop_assert!(cal.is_open(cal.next_open(start)));
        prop_assert!(cal.next_open(start) >= start);
    }

    // Property 2: monotone in start and duration.
    #[test]
    fn monotone(def in calendar_def(), s1 in start_in_window(), gap in 0i64..5000, m1 in 0i64..20_000, extra in 0i64..5000) {
        let cal = BusinessCalendar::new(&def).unwrap();
        let s2 = s1 + Duration::minutes(gap);
        let d1 = Duration::minutes(m1);
        let d2 = d1 + Duration::minutes(extra);
        prop_assert!(cal.add_business(s1, d1) <= cal.add_business(s2, d1));
        prop_assert!(cal.add_business(s1, d1) <= cal.add_business(s1, d2));
    }

    // Property 3: a holiday never brings a deadline earlier; a make-up day never later.
    #[test]
    fn holidays_and_make_up_days(def in calendar_def(), start in start_in_window(), mins in 0i64..20_000, day in date_in_window(), half in 0u32..40) {
        let taken = def.holidays.contains(&day) || def.overrides.iter().any(|o| o.date == day);
        prop_assume!(!taken);
        let d = Duration::minutes(mins);
        let base = BusinessCalendar::new(&def).unwrap().add_business(start, d);
        let mut with_holiday = def.clone();
        with_holiday.holidays.push(day);
        prop_assert!(BusinessCalendar::new(&with_holiday).unwrap().add_business(start, d) >= base);
        let reference = naive(&def);
        prop_assume!(reference.hours_of(day).is_empty());
        let mut with_make_up = def.clone();
        with_make_up.overrides.push(DayOverride { date: day, hours: vec![hours(half, 8)] });
        prop_assert!(BusinessCalendar::new(&with_make_up).unwrap().add_business(start, d) <= base);
    }
}

/// Long limits skip whole weeks; the result must still match a week-by-week count.
#[test]
fn thirty_working_days_across_holidays_and_dst() {
    let def: CalendarDef = toml::from_str(
        r#"
        key = "office"
        time_zone = "Europe/Berlin"
        holidays = ["2026-04-03", "2026-04-06", "2026-05-01"]
        overrides = [{ date = "2026-04-11", hours = [{ from = "10:00:00", to = "14:00:00" }] }]
        [week]
        mon = [{ from = "08:00:00", to = "12:00:00" }, { from = "13:00:00", to = "17:00:00" }]
        tue = [{ from = "08:00:00", to = "17:00:00" }]
        wed = [{ from = "08:00:00", to = "17:00:00" }]
        thu = [{ from = "08:00:00", to = "17:00:00" }]
        fri = [{ from = "08:00:00", to = "15:00:00" }]
        sat = [{ from = "22:00:00", to = "06:00:00" }]
        "#,
    )
    .unwrap();
    let cal = BusinessCalendar::new(&def).unwrap();
    let reference = naive(&def);
    let start = Utc.with_ymd_and_hms(2026, 3, 10, 14, 17, 0).unwrap();
    for hours in [1, 8, 40, 30 * 8, 400] {
        let d = Duration::hours(hours);
        assert_eq!(
            cal.add_business(start, d),
            reference.add_business(start, d),
            "{hours} h"
        );
    }
    // Saturdays work (a night shift), Good Friday, Easter Monday and 1 May do not:
    // the 30th working day after Friday 27 March is Tuesday 5 May.
    let fri = Utc.with_ymd_and_hms(2026, 3, 27, 14, 0, 0).unwrap();
    assert_eq!(
        cal.add_working_days(fri, 30)
            .with_timezone(&reference.tz)
            .to_string(),
        "2026-05-05 15:00:00 CEST"
    );
}

fn nine_to_five_in(zone: &str) -> BusinessCalendar {
    let day = || vec![hours(18, 16)]; // 09:00–17:00
    BusinessCalendar::new(&CalendarDef {
        key: CalendarKey::new("c").unwrap(),
        time_zone: zone.into(),
        always_open: false,
        week: WeekHours {
            mon: day(),
            tue: day(),
            wed: day(),
            thu: day(),
            fri: day(),
            sat: day(),
            sun: day(),
        },
        holidays: vec![],
        overrides: vec![],
    })
    .unwrap()
}

#[test]
fn summer_time_holds_through_the_last_day_of_2100() {
    let berlin = nine_to_five_in("Europe/Berlin");
    for (month, day, utc_hour) in [(1, 4, 8), (7, 1, 7), (10, 1, 7), (12, 31, 8)] {
        let midnight = Utc.with_ymd_and_hms(2100, month, day, 0, 0, 0).unwrap();
        let opens = Utc
            .with_ymd_and_hms(2100, month, day, utc_hour, 0, 0)
            .unwrap();
        assert_eq!(berlin.next_open(midnight), opens, "2100-{month}-{day}");
    }
    // Summer time from the last Sunday of March (the 28th) …
    let march = |d, h| Utc.with_ymd_and_hms(2100, 3, d, h, 0, 0).unwrap();
    assert_eq!(berlin.next_open(march(27, 0)), march(27, 8));
    assert_eq!(berlin.next_open(march(28, 0)), march(28, 7));
    // … and in New York from the second Sunday (the 14th) to the first of November (the 7th).
    let new_york = nine_to_five_in("America/New_York");
    let ny = |m, d, h| Utc.with_ymd_and_hms(2100, m, d, h, 0, 0).unwrap();
    assert_eq!(new_york.next_open(ny(3, 13, 0)), ny(3, 13, 14));
    assert_eq!(new_york.next_open(ny(3, 14, 0)), ny(3, 14, 13));
    assert_eq!(new_york.next_open(ny(11, 6, 0)), ny(11, 6, 13));
    assert_eq!(new_york.next_open(ny(11, 7, 6)), ny(11, 7, 14));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    // No instant or duration, however far out, panics a calendar: out of chrono's range the
    // answers saturate at its ends.
    #[test]
    fn extreme_instants_never_panic(
        z in 0usize..4,
        secs in prop_oneof![
            Just(i64::MIN), Just(i64::MAX), Just(0i64),
            -8_334_601_228_800i64..8_210_266_876_799,
            any::<i64>(),
        ],
        dur in prop_oneof![Just(i64::MAX), Just(i64::MIN), any::<i64>(), 0i64..10_000_000],
        n in any::<u32>(),
    ) {
        let cal = nine_to_five_in(ZONES[z]);
        let t = chrono::DateTime::from_timestamp(secs.clamp(-8_334_601_228_800, 8_210_266_876_799), 0)
            .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC);
        let d = Duration::try_seconds(dur / 1000).unwrap_or(Duration::MAX);
        let _ = cal.is_open(t);
        let _ = cal.next_open(t);
        let _ = cal.add_business(t, d);
        let _ = cal.add_business(t, Duration::MAX);
        let _ = cal.business_between(t, chrono::DateTime::<Utc>::MAX_UTC);
        let _ = cal.business_between(chrono::DateTime::<Utc>::MIN_UTC, t);
        let _ = cal.add_working_days(t, n);
        let _ = cal.next_cutoff(t, NaiveTime::from_hms_opt(17, 0, 0).unwrap());
        let _ = cal.is_working_day(t.date_naive());
    }
}
