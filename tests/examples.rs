//! The example scenarios, run as tests: each ends as the domain says it should.

#[path = "../examples/support/mod.rs"]
mod support;

use plaint::file::{FileStore, Options};
use plaint::{ComplaintId, MemoryStore, Store};
use plaint_core::blocking::Wait as _;
use std::sync::Arc;

fn memory() -> Arc<dyn plaint::DynStore> {
    Arc::new(MemoryStore::new())
}

#[path = "../examples/scenarios/express.rs"]
mod express;

#[test]
fn express_week_ends_as_planned() {
    let s = express::run(memory(), true).unwrap();
    let stages: Vec<(&str, &str)> = s
        .stages
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        stages,
        [
            ("EXP-101", "closed"),
            ("EXP-102", "closed"),
            ("EXP-103", "closed"),
            ("EXP-104", "closed"),
            ("EXP-105", "closed"),
            ("EXP-106", "merged"),
            ("EXP-107", "consultation"),
            ("EXP-108", "closed"),
        ]
    );
    assert_eq!((s.breached, s.in_ledger, s.reopened), (1, 1, 1));
    assert_eq!(
        s.refused, 2,
        "the service manager's approval and the early close"
    );
    assert!(s.renegotiated >= 1);
}

#[path = "../examples/scenarios/supermarket.rs"]
mod supermarket;

#[path = "../examples/scenarios/hotel.rs"]
mod hotel;

#[test]
fn supermarket_new_year_ends_as_planned() {
    let s = supermarket::run(memory(), true).unwrap();
    assert!(s.stages.values().all(|v| v == "closed"), "{:?}", s.stages);
    assert_eq!(s.stages.len(), 6);
    assert_eq!((s.breached, s.in_ledger, s.reopened), (1, 1, 1));
    assert_eq!(
        s.refused, 1,
        "the store manager may not approve an urgent case"
    );
    assert!(s.renegotiated >= 1);
}

#[test]
fn hotel_weekend_ends_as_planned() {
    let s = hotel::run(memory(), true).unwrap();
    assert!(s.stages.values().all(|v| v == "closed"), "{:?}", s.stages);
    assert_eq!(s.stages.len(), 6);
    assert_eq!((s.breached, s.in_ledger, s.reopened), (1, 1, 1));
    assert_eq!(
        s.refused, 2,
        "a refund above the cap, and an approval of one's own proposal"
    );
    assert!(s.renegotiated >= 1);
}

#[test]
fn a_second_run_on_the_same_file_store_applies_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let open = || -> Arc<dyn plaint::DynStore> {
        Arc::new(FileStore::open(dir.path(), Options::new()).unwrap().store)
    };
    let first = express::run(open(), true).unwrap();
    let store = open();
    let id = ComplaintId::new("EXP-104").unwrap();
    let history = store.history(&id).wait().unwrap();
    let second = express::run(Arc::clone(&store), true).unwrap();
    assert_eq!(second.stages, first.stages);
    assert_eq!(
        second.fired, 0,
        "every clock already fired in the first run"
    );
    assert_eq!(
        store.history(&id).wait().unwrap(),
        history,
        "nothing was applied twice"
    );
}

/// Every text a scenario's notifications carried is whole: no placeholder left, no value
/// missing (an empty value leaves two spaces, or a gap before punctuation), no "-" standing
/// for a missing value (review items 9 and 10: the express acknowledgement read
/// "我们将于  前答复").
#[test]
fn scenario_texts_have_no_gaps() {
    let runs = [
        ("express", express::run(memory(), true).unwrap()),
        ("supermarket", supermarket::run(memory(), true).unwrap()),
        ("hotel", hotel::run(memory(), true).unwrap()),
    ];
    let mut bad = Vec::new();
    let mut deadlines = 0;
    for (name, s) in &runs {
        assert!(!s.texts.0.is_empty(), "{name} sent no texts");
        for (id, text) in &s.texts.0 {
            let chars: Vec<char> = text.chars().collect();
            let lone_dash = chars.iter().enumerate().any(|(i, c)| {
                *c == '-'
                    && !(i > 0
                        && chars[i - 1].is_ascii_alphanumeric()
                        && chars.get(i + 1).is_some_and(char::is_ascii_alphanumeric))
            });
            let gap = ["  ", " 。", " ，", "（ ", " ）", "于 前", " ."]
                .iter()
                .any(|g| text.contains(g));
            if text.contains('{') || text.contains('}') || gap || lone_dash {
                bad.push(format!("{name} {id}: {text}"));
            }
            deadlines += usize::from(text.contains("2026-"));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
    assert!(deadlines > 0, "some texts show a real deadline");
}
