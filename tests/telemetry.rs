//! The engine emits `tracing` spans and `metrics` counters for commands, ticks and the relay,
//! into whatever subscriber and recorder the embedding installs.

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use plaint::MemoryStore;
use plaint_core::blocking::Engine;
use plaint_core::testing;
use plaint_core::*;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event as TraceEvent, Metadata, Subscriber};

/// Fields or labels as (name, value).
type Pairs = Vec<(String, String)>;

/// A span's name and its fields, recorded later ones last.
type SpanRecord = (String, Pairs);

/// Keeps the name and fields of every span, and the fields recorded on it later.
#[derive(Default, Clone)]
struct Spans(Arc<Mutex<Vec<SpanRecord>>>);

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for Spans {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut spans = self.0.lock().unwrap();
        let mut fields = Vec::new();
        span.record(&mut Fields(&mut fields));
        spans.push((span.metadata().name().to_owned(), fields));
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, id: &Id, values: &Record<'_>) {
        let mut spans = self.0.lock().unwrap();
        let (_, fields) = &mut spans[id.into_u64() as usize - 1];
        values.record(&mut Fields(fields));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &TraceEvent<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

impl Spans {
    fn field(&self, span: &str, n: usize, name: &str) -> Option<String> {
        let spans = self.0.lock().unwrap();
        let (_, fields) = spans.iter().filter(|(s, _)| s == span).nth(n)?;
        fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

#[test]
fn commands_ticks_and_the_relay_are_traced_and_counted() {
    let spans = Spans::default();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let clock = Arc::new(ManualClock::new(testing::t(0)));
    let engine = Engine::builder(Arc::new(MemoryStore::new()), testing::sla_policy())
        .clock(Arc::clone(&clock))
        .notifier(RecordingNotifier::new())
        .build();
    let id = ComplaintId::new("C-1").unwrap();
    metrics::with_local_recorder(&recorder, || {
        tracing::subscriber::with_default(spans.clone(), || {
            let intake = Arc::new(testing::intake(testing::t(0)));
            let cmd = |n: &str| CommandId::new(n).unwrap();
            engine
                .execute(cmd("c1"), &id, Command::Receive(intake), &testing::agent())
                .unwrap();
            let refused = engine.execute(cmd("c2"), &id, Command::Close, &testing::customer());
            assert!(refused.is_err());
            clock.set(testing::t(48));
            engine.tick().unwrap();
            engine.relay().unwrap();
        })
    });
    assert_eq!(
        spans.field("plaint.execute", 0, "command").as_deref(),
        Some("receive")
    );
    assert_eq!(
        spans.field("plaint.execute", 0, "outcome").as_deref(),
        Some("ok")
    );
    assert_eq!(
        spans.field("plaint.execute", 0, "attempts").as_deref(),
        Some("1")
    );
    assert_eq!(
        spans.field("plaint.execute", 0, "complaint").as_deref(),
        Some("C-1")
    );
    assert_eq!(
        spans.field("plaint.execute", 1, "outcome").as_deref(),
        Some("forbidden")
    );
    let fired: usize = spans
        .field("plaint.tick", 0, "fired")
        .unwrap()
        .parse()
        .unwrap();
    assert!(fired >= 1, "the acknowledgement clock breached");
    assert!(spans.field("plaint.relay", 0, "limit").is_some());

    // (name, labels, count) of every counter.
    let counters: Vec<(String, Pairs, u64)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| match value {
            DebugValue::Counter(n) => {
                let key = key.key();
                let labels = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                Some((key.name().to_owned(), labels, n))
            }
            _ => None,
        })
        .collect();
    let count = |name: &str, labels: &[(&str, &str)]| {
        counters
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, _, n)| n)
            .sum::<u64>()
    };
    let ok = [("command", "receive"), ("outcome", "ok")];
    assert_eq!(count("plaint_commands_total", &ok), 1);
    let refused = [("command", "close"), ("outcome", "forbidden")];
    assert_eq!(count("plaint_commands_total", &refused), 1);
    let breaches = [("event", "clock_breached")];
    assert!(count("plaint_clock_firings_total", &breaches) >= 1);
    let delivered = [("outcome", "delivered")];
    assert!(count("plaint_notifications_total", &delivered) >= 1);
}

/// The file store times its group commits and checkpoints.
#[test]
fn the_file_store_times_commits_and_checkpoints() {
    use plaint::file::{FileStore, Options};
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::open(dir.path(), Options::new()).unwrap().store);
    let engine = Engine::builder(Arc::clone(&store), testing::policy())
        .clock(ManualClock::new(testing::t(1)))
        .build();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // The store's writer thread times the commit, outside any thread-local recorder: a
    // global one, as an embedding installs (the only one in this test binary).
    recorder.install().unwrap();
    let intake = Arc::new(testing::intake(testing::t(0)));
    engine
        .execute(
            CommandId::new("c1").unwrap(),
            &ComplaintId::new("C-1").unwrap(),
            Command::Receive(intake),
            &testing::agent(),
        )
        .unwrap();
    store.checkpoint().unwrap();
    // One snapshot: taking one drains the histograms.
    let snapshot = snapshotter.snapshot().into_vec();
    let recorded = |name: &str| {
        snapshot
            .iter()
            .filter(|(key, _, _, _)| key.key().name() == name)
            .map(|(_, _, _, value)| match value {
                DebugValue::Histogram(values) => values.len(),
                _ => 0,
            })
            .sum::<usize>()
    };
    assert!(recorded("plaint_file_commit_seconds") >= 1);
    assert_eq!(recorded("plaint_file_checkpoint_seconds"), 1);
}
