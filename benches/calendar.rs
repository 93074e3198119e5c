//! `add_business` for 1 hour and for 30 working days on an office calendar with holidays and
//! a make-up day, in a DST zone, next to the naive minute-stepping reference on the same inputs.
//!
//! Run: `cargo bench --bench calendar`.

#[path = "../tests/support/naive_calendar.rs"]
mod naive_calendar;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use plaint::calendar::{BusinessCalendar, CalendarDef};
use std::hint::black_box;

fn office() -> CalendarDef {
    toml::from_str(
        r#"
        key = "office"
        time_zone = "Europe/Berlin"
        holidays = ["2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14", "2026-05-25"]
        overrides = [{ date = "2026-04-11", hours = [{ from = "09:00:00", to = "13:00:00" }] }]
        [week]
        mon = [{ from = "08:00:00", to = "12:00:00" }, { from = "13:00:00", to = "17:00:00" }]
        tue = [{ from = "08:00:00", to = "12:00:00" }, { from = "13:00:00", to = "17:00:00" }]
        wed = [{ from = "08:00:00", to = "12:00:00" }, { from = "13:00:00", to = "17:00:00" }]
        thu = [{ from = "08:00:00", to = "12:00:00" }, { from = "13:00:00", to = "17:00:00" }]
        fri = [{ from = "08:00:00", to = "12:00:00" }, { from = "13:00:00", to = "16:00:00" }]
        "#,
    )
    .expect("valid calendar")
}

fn calendar(c: &mut Criterion) {
    let def = office();
    let cal = BusinessCalendar::new(&def).expect("valid");
    let naive = naive_calendar::naive(&def);
    // Tuesday 2026-03-24 10:17 local: before the DST change, 30 working days cross Easter.
    let start = Utc.with_ymd_and_hms(2026, 3, 24, 9, 17, 0).unwrap();
    let one_hour = Duration::hours(1);
    let thirty_days = Duration::hours(30 * 8);
    assert_eq!(
        cal.add_business(start, thirty_days),
        naive.add_business(start, thirty_days)
    );

    let mut g = c.benchmark_group("add_business");
    g.bench_function("fast/1h", |b| {
        b.iter(|| cal.add_business(black_box(start), one_hour))
    });
    g.bench_function("fast/30-working-days", |b| {
        b.iter(|| cal.add_business(black_box(start), thirty_days))
    });
    g.bench_function("naive/1h", |b| {
        b.iter(|| naive.add_business(black_box(start), one_hour))
    });
    g.bench_function("naive/30-working-days", |b| {
        b.iter(|| naive.add_business(black_box(start), thirty_days))
    });
    g.finish();
}

criterion_group!(benches, calendar);
criterion_main!(benches);
