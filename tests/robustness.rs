//! Robustness: no input panics the loader or the engine. Policy documents (the shipped ones,
//! mutated byte by byte, token by token and value by value, as TOML and as JSON) load or are
//! refused; what loads is drawn as a diagram and driven through a short lifecycle. Random
//! commands with extreme values (instants at and beyond the ends of time, money at the ends
//! of `i64` and in other currencies, empty and huge texts, unknown keys, random actors) are
//! decided, applied and replayed on the shipped policies, directly and through an `Engine`
//! that ticks and relays; and decided on damaged states no history folds to. Every answer
//! must be an error or a result, and an accepted command's events must replay to the state.
//! Each panic these properties found is kept below as a plain test with its smallest input.
//!
//! The default case counts keep the file at about ten seconds in a debug build;
//! `PROPTEST_CASES=5000 cargo test --test robustness` hunts longer (about five minutes).

mod common;

use chrono::{DateTime, Duration, Utc};
use common::cases;
use plaint::MemoryStore;
use plaint_core::blocking::Engine;
use plaint_core::notify::notifications_for;
use plaint_core::testing;
use plaint_core::*;
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};

// ---- Seeds ----------------------------------------------------------------------------------

const SAMPLE: &str = include_str!("../crates/plaint-core/src/testing/policy.toml");
const SAMPLE_CLOCKS: &str = include_str!("../crates/plaint-core/src/testing/clocks.toml");

/// The shipped policies, as TOML text: the examples, the good test policy, the sample policy
/// with and without its clocks.
fn seeds() -> &'static [String] {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        vec![
            include_str!("../examples/policies/express.toml").to_owned(),
            include_str!("../examples/policies/hotel.toml").to_owned(),
            include_str!("../examples/policies/supermarket.toml").to_owned(),
            include_str!("policies/good/minimal.toml").to_owned(),
            SAMPLE.to_owned(),
            [SAMPLE, SAMPLE_CLOCKS].concat(),
        ]
    })
}

/// The broken-policy corpus, as further seeds for the loader alone.
fn bad_seeds() -> &'static [String] {
    static BAD: OnceLock<Vec<String>> = OnceLock::new();
    BAD.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policies/bad");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    })
}

/// The shipped policies, loaded.
fn shipped() -> &'static [Policy] {
    static LOADED: OnceLock<Vec<Policy>> = OnceLock::new();
    LOADED.get_or_init(|| {
        seeds()
            .iter()
            .map(|s| Policy::from_toml_str(s).unwrap())
            .collect()
    })
}

/// A TOML document as JSON text (dates and times as their text, as the loader reads them).
fn to_json(toml_text: &str) -> String {
    fn convert(v: toml::Value) -> serde_json::Value {
        match v {
            toml::Value::String(s) => s.into(),
            toml::Value::Integer(i) => i.into(),
            toml::Value::Float(f) => f.into(),
            toml::Value::Boolean(b) => b.into(),
            toml::Value::Datetime(d) => d.to_string().into(),
            toml::Value::Array(a) => a.into_iter().map(convert).collect(),
            toml::Value::Table(t) => t.into_iter().map(|(k, v)| (k, convert(v))).collect(),
        }
    }
    let value: toml::Value = toml::from_str(toml_text).unwrap();
    serde_json::to_string_pretty(&convert(value)).unwrap()
}

// ---- Mutations ------------------------------------------------------------------------------

/// Numbers that break naive arithmetic: past `i64`, `u32` and `u8`, negative, zero, floats.
const NUMBERS: &[&str] = &[
    "9223372036854775808",
    "9223372036854775807",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "4294967296",
    "4294967295",
    "2147483648",
    "65536",
    "256",
    "255",
    "101",
    "100",
    "99",
    "36501",
    "36500",
    "-1",
    "0",
    "-0",
    "1",
    "1e308",
    "-1e308",
    "1e400",
    "0.5",
    "1.0",
    "nan",
    "inf",
    "-inf",
    "99999999999999999999999999999",
];

/// String values worth trying anywhere a string goes: empty, long, unicode, spans, times and
/// dates at their limits, time zones, placeholders.
fn special_strings() -> &'static [String] {
    static S: OnceLock<Vec<String>> = OnceLock::new();
    S.get_or_init(|| {
        let mut v: Vec<String> = [
            "",
            " ",
            "a",
            "ü日本語🎉\u{202e}\u{0}",
            "\\u0000",
            "0s",
            "1s",
            "36500d",
            "36501d",
            "876000h",
            "99999999999999999999d",
            "9223372036854775807s",
            "1d9223372036854775807s",
            "00:00:00",
            "23:59:59",
            "23:59:60",
            "24:00:00",
            "00:00:00.999999999",
            "0000-01-01",
            "1900-01-01",
            "1969-12-31",
            "1970-01-01",
            "2100-12-31",
            "2101-01-01",
            "9999-12-31",
            "+262142-12-31",
            "-262143-01-01",
            "UTC",
            "Etc/GMT+12",
            "Etc/GMT-14",
            "Pacific/Kiritimati",
            "America/Santiago",
            "Australia/Lord_Howe",
            "Africa/Casablanca",
            "Mars/Olympus",
            "{deadline}",
            "{deadline:}",
            "{deadline:a|b}",
            "{clock}{phone}{{",
            "}{",
            "role:x",
            "department:",
            "named",
            "EUR",
            "JPY",
            "cny",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        v.push("x".repeat(70));
        v.push("k".repeat(64));
        v.push("長".repeat(20_000));
        v
    })
}

/// One mutation; indexes are taken modulo what the document has when it is applied.
#[derive(Debug, Clone)]
enum Mutation {
    /// Flip one bit of one byte.
    FlipBit(usize, u8),
    /// Insert a byte.
    InsertByte(usize, u8),
    /// Delete up to `n` bytes.
    DeleteBytes(usize, u8),
    /// Cut the document short.
    Truncate(usize),
    /// Copy a chunk of the document to another place.
    CopyChunk(usize, usize, u8),
    /// Replace a number with one of [`NUMBERS`].
    Number(usize, usize),
    /// Replace a string with one of [`special_strings`].
    SpecialString(usize, usize),
    /// Replace a string with another string of the document.
    OtherString(usize, usize),
    /// Replace a string with a key of the document (quoted).
    KeyAsString(usize, usize),
    /// Rename a key as another key of the document.
    RenameKey(usize, usize),
    /// A string where a number was, or a number where a string was.
    SwapTypes(usize, usize),
    /// Duplicate a line.
    DuplicateLine(usize),
    /// Delete a line.
    DeleteLine(usize),
    /// Swap two lines.
    SwapLines(usize, usize),
    /// Nest a value deep in arrays or `not` conditions.
    Nest(usize, u16, bool),
    /// Parse the document and replace its `i`-th leaf with an extreme value of its kind (an
    /// integer, a span, a time of day, a date, any string), keeping it well-formed.
    Leaf(usize, usize),
    /// Parse the document and duplicate (or remove) the `i`-th array element.
    Element(usize, bool),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<usize>;
    prop_oneof![
        1 => (i(), any::<u8>()).prop_map(|(p, b)| Mutation::FlipBit(p, b)),
        1 => (i(), any::<u8>()).prop_map(|(p, b)| Mutation::InsertByte(p, b)),
        1 => (i(), any::<u8>()).prop_map(|(p, n)| Mutation::DeleteBytes(p, n)),
        1 => i().prop_map(Mutation::Truncate),
        1 => (i(), i(), any::<u8>()).prop_map(|(a, b, n)| Mutation::CopyChunk(a, b, n)),
        6 => (i(), i()).prop_map(|(a, b)| Mutation::Number(a, b)),
        6 => (i(), i()).prop_map(|(a, b)| Mutation::SpecialString(a, b)),
        4 => (i(), i()).prop_map(|(a, b)| Mutation::OtherString(a, b)),
        2 => (i(), i()).prop_map(|(a, b)| Mutation::KeyAsString(a, b)),
        2 => (i(), i()).prop_map(|(a, b)| Mutation::RenameKey(a, b)),
        2 => (i(), i()).prop_map(|(a, b)| Mutation::SwapTypes(a, b)),
        1 => i().prop_map(Mutation::DuplicateLine),
        1 => i().prop_map(Mutation::DeleteLine),
        1 => (i(), i()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => (i(), 1u16..400, any::<bool>()).prop_map(|(a, n, arr)| Mutation::Nest(a, n, arr)),
        8 => (i(), i()).prop_map(|(a, b)| Mutation::Leaf(a, b)),
        2 => (i(), any::<bool>()).prop_map(|(a, dup)| Mutation::Element(a, dup)),
    ]
}

/// What a rough lexer finds in a TOML or JSON document: byte ranges of strings (with their
/// quotes), numbers and keys.
#[derive(Default)]
struct Tokens {
    strings: Vec<(usize, usize)>,
    /// The strings that are values, not (JSON) keys.
    values: Vec<(usize, usize)>,
    numbers: Vec<(usize, usize)>,
    keys: Vec<(usize, usize)>,
}

fn lex(text: &str) -> Tokens {
    let b = text.as_bytes();
    let mut t = Tokens::default();
    let mut i = 0;
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                t.strings.push((start, i));
                // A JSON key is a string followed by a colon.
                if b.get(i) == Some(&b':') {
                    t.keys.push((start, i));
                } else {
                    t.values.push((start, i));
                }
            }
            c if word(c) => {
                let start = i;
                while i < b.len() && (word(b[i]) || b[i] == b'.' || b[i] == b'+') {
                    i += 1;
                }
                let tok = &text[start..i];
                let mut rest = i;
                while rest < b.len() && b[rest] == b' ' {
                    rest += 1;
                }
                if b.get(rest) == Some(&b'=') {
                    t.keys.push((start, i));
                } else if tok
                    .trim_start_matches(['-', '+'])
                    .starts_with(|c: char| c.is_ascii_digit())
                {
                    t.numbers.push((start, i));
                }
            }
            _ => i += 1,
        }
    }
    t
}

/// The largest char boundary of `s` at or before `i`.
fn floor(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn replace(text: &str, (a, b): (usize, usize), with: &str) -> String {
    format!("{}{with}{}", &text[..a], &text[b..])
}

/// Applies one mutation to a document (`json`: the document is JSON, which quotes keys).
fn mutate(text: String, m: &Mutation, json: bool) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap();
    let pick = |v: &[(usize, usize)], i: usize| (!v.is_empty()).then(|| v[i % v.len()]);
    let lines = |t: &str| -> Vec<String> { t.split('\n').map(str::to_owned).collect() };
    let len = text.len().max(1);
    match *m {
        Mutation::FlipBit(p, bit) => {
            let mut bytes = text.into_bytes();
            if !bytes.is_empty() {
                let p = p % bytes.len();
                bytes[p] ^= 1 << (bit % 8);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Mutation::InsertByte(p, byte) => {
            let mut bytes = text.into_bytes();
            let p = p % (bytes.len() + 1);
            let byte = *b"{}[]\"'=#\n\\,.: 0-+\xff"
                .get(byte as usize % 24)
                .unwrap_or(&byte);
            bytes.insert(p, byte);
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Mutation::DeleteBytes(p, n) => {
            let mut bytes = text.into_bytes();
            let p = p % (bytes.len() + 1);
            let end = (p + usize::from(n % 32) + 1).min(bytes.len());
            bytes.drain(p..end);
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Mutation::Truncate(p) => {
            let p = floor(&text, p % len);
            text[..p].to_owned()
        }
        Mutation::CopyChunk(from, to, n) => {
            let a = floor(&text, from % len);
            let b = floor(&text, a + usize::from(n) + 1);
            let chunk = text[a..b].to_owned();
            let to = floor(&text, to % len);
            replace(&text, (to, to), &chunk)
        }
        Mutation::Number(i, k) => {
            let t = lex(&text);
            match pick(&t.numbers, i) {
                Some(r) => replace(&text, r, NUMBERS[k % NUMBERS.len()]),
                None => text,
            }
        }
        Mutation::SpecialString(i, k) => {
            let t = lex(&text);
            let s = special_strings();
            match pick(&t.strings, i) {
                Some(r) => replace(&text, r, &quote(&s[k % s.len()])),
                None => text,
            }
        }
        Mutation::OtherString(i, j) => {
            let t = lex(&text);
            match (pick(&t.values, i), pick(&t.values, j)) {
                (Some(r), Some((a, b))) => {
                    let other = text[a..b].to_owned();
                    replace(&text, r, &other)
                }
                _ => text,
            }
        }
        Mutation::KeyAsString(i, j) => {
            let t = lex(&text);
            match (pick(&t.values, i), pick(&t.keys, j)) {
                (Some(r), Some((a, b))) => {
                    let key = text[a..b].trim_matches('"').to_owned();
                    replace(&text, r, &quote(&key))
                }
                _ => text,
            }
        }
        Mutation::RenameKey(i, j) => {
            let t = lex(&text);
            match (pick(&t.keys, i), pick(&t.keys, j)) {
                (Some(r), Some((a, b))) => {
                    let key = text[a..b].to_owned();
                    replace(&text, r, &key)
                }
                _ => text,
            }
        }
        Mutation::SwapTypes(i, k) => {
            let t = lex(&text);
            if k % 2 == 0 {
                match pick(&t.values, i) {
                    Some(r) => replace(&text, r, NUMBERS[k / 2 % NUMBERS.len()]),
                    None => text,
                }
            } else {
                match pick(&t.numbers, i) {
                    Some((a, b)) => {
                        let n = text[a..b].to_owned();
                        replace(&text, (a, b), &quote(&n))
                    }
                    None => text,
                }
            }
        }
        Mutation::DuplicateLine(i) => {
            let mut l = lines(&text);
            let i = i % l.len();
            let line = l[i].clone();
            l.insert(i, line);
            l.join("\n")
        }
        Mutation::DeleteLine(i) => {
            let mut l = lines(&text);
            let i = i % l.len();
            l.remove(i);
            l.join("\n")
        }
        Mutation::SwapLines(i, j) => {
            let mut l = lines(&text);
            let (i, j) = (i % l.len(), j % l.len());
            l.swap(i, j);
            l.join("\n")
        }
        Mutation::Nest(i, depth, arrays) => {
            let t = lex(&text);
            let Some((a, b)) = pick(&t.values, i).or_else(|| pick(&t.numbers, i)) else {
                return text;
            };
            let value = &text[a..b];
            let depth = usize::from(depth);
            let nested = match (arrays, json) {
                (true, _) => format!("{}{value}{}", "[".repeat(depth), "]".repeat(depth)),
                (false, false) => {
                    format!("{}{value}{}", "{ not = ".repeat(depth), " }".repeat(depth))
                }
                (false, true) => {
                    format!("{}{value}{}", "{\"not\": ".repeat(depth), "}".repeat(depth))
                }
            };
            replace(&text, (a, b), &nested)
        }
        Mutation::Leaf(i, k) => in_tree(text, json, |doc| {
            let leaves = count(doc, &|v| !v.is_array() && !v.is_object());
            if leaves > 0 {
                let mut n = i % leaves;
                visit(
                    doc,
                    &mut n,
                    &|v| !v.is_array() && !v.is_object(),
                    &mut |v| {
                        *v = extreme(v, k);
                    },
                );
            }
        }),
        Mutation::Element(i, dup) => in_tree(text, json, |doc| {
            let arrays = count(doc, &|v| v.as_array().is_some_and(|a| !a.is_empty()));
            if arrays > 0 {
                let mut n = i % arrays;
                let nonempty = |v: &serde_json::Value| v.as_array().is_some_and(|a| !a.is_empty());
                visit(doc, &mut n, &nonempty, &mut |v| {
                    if let Some(a) = v.as_array_mut() {
                        let k = i / arrays % a.len();
                        if dup {
                            let e = a[k].clone();
                            a.insert(k, e);
                        } else {
                            a.remove(k);
                        }
                    }
                });
            }
        }),
    }
}

/// Parses the document, changes it and writes it back in its own format; a document that
/// no longer parses, or whose change cannot be written, is left as it is.
fn in_tree(text: String, json: bool, change: impl FnOnce(&mut serde_json::Value)) -> String {
    let parsed = if json {
        serde_json::from_str::<serde_json::Value>(&text).ok()
    } else {
        toml::from_str::<toml::Value>(&text)
            .ok()
            .and_then(|v| serde_json::to_value(v).ok())
    };
    let Some(mut doc) = parsed else { return text };
    change(&mut doc);
    let written = if json {
        serde_json::to_string_pretty(&doc).ok()
    } else {
        toml::to_string(&doc).ok()
    };
    written.unwrap_or(text)
}

/// How many values of `doc` (itself included) satisfy `pred`.
fn count(doc: &serde_json::Value, pred: &dyn Fn(&serde_json::Value) -> bool) -> usize {
    let inner: usize = match doc {
        serde_json::Value::Array(a) => a.iter().map(|v| count(v, pred)).sum(),
        serde_json::Value::Object(o) => o.values().map(|v| count(v, pred)).sum(),
        _ => 0,
    };
    inner + usize::from(pred(doc))
}

/// Calls `f` on the `n`-th value (depth first, children first) that satisfies `pred`.
fn visit(
    doc: &mut serde_json::Value,
    n: &mut usize,
    pred: &dyn Fn(&serde_json::Value) -> bool,
    f: &mut dyn FnMut(&mut serde_json::Value),
) -> bool {
    let done = match doc {
        serde_json::Value::Array(a) => a.iter_mut().any(|v| visit(v, n, pred, f)),
        serde_json::Value::Object(o) => o.values_mut().any(|v| visit(v, n, pred, f)),
        _ => false,
    };
    if done {
        return true;
    }
    if pred(doc) {
        if *n == 0 {
            f(doc);
            return true;
        }
        *n -= 1;
    }
    false
}

/// An extreme value of the same kind as `v`: an integer at a limit, a span, a time of day or
/// a date at the edge of what is accepted, a boolean flipped, or any special string.
fn extreme(v: &serde_json::Value, k: usize) -> serde_json::Value {
    use serde_json::Value;
    let of = |xs: &[&str]| Value::from(xs[k % xs.len()]);
    match v {
        Value::Number(_) => {
            let ints = [
                0,
                -1,
                1,
                i64::MAX,
                i64::MIN,
                i64::from(u32::MAX),
                i64::from(u32::MAX) + 1,
                99,
                100,
                101,
                255,
                256,
                36_500,
                36_501,
            ];
            Value::from(ints[k % ints.len()])
        }
        Value::Bool(b) => Value::from(!b),
        Value::String(s) if is_span(s) => of(&[
            "1s",
            "0s",
            "36500d",
            "36499d23h59m59s",
            "876000h",
            "36501d",
            "59s",
            "1d",
        ]),
        Value::String(s) if s.len() == 8 && s.as_bytes().get(2) == Some(&b':') => of(&[
            "00:00:00", "23:59:59", "23:59:60", "12:00:00", "00:00:01", "24:00:00",
        ]),
        Value::String(s) if s.len() == 10 && s.as_bytes().get(4) == Some(&b'-') => of(&[
            "1970-01-01",
            "1969-12-31",
            "2100-12-31",
            "2101-01-01",
            "2099-03-29",
            "9999-12-31",
            "0001-01-01",
        ]),
        _ => {
            let s = special_strings();
            Value::from(s[k % s.len()].as_str())
        }
    }
}

fn is_span(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || "dhms".contains(c))
        && s.ends_with(['d', 'h', 'm', 's'])
}

// ---- Extreme values -------------------------------------------------------------------------

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn plus(t: Timestamp, secs: i64) -> Timestamp {
    Duration::try_seconds(secs)
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(if secs < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
}

/// An instant: the ends of what chrono represents, the ends of plaint's range and just past
/// them, any representable second, the last DST changes, or near `now`.
fn instant(sel: u8, x: i64, now: Timestamp) -> Timestamp {
    match sel % 20 {
        0 => DateTime::<Utc>::MIN_UTC,
        1 => DateTime::<Utc>::MAX_UTC,
        2 => EARLIEST,
        3 => plus(EARLIEST, -1),
        4 => LATEST,
        5 => plus(LATEST, 1),
        6 => DateTime::from_timestamp(x % DateTime::<Utc>::MAX_UTC.timestamp(), 0).unwrap(),
        7 => DateTime::from_timestamp(x.rem_euclid(LATEST.timestamp() + 1), 0).unwrap(),
        8 => ts("2100-10-31T00:59:59Z"),
        9 => ts("2100-03-28T01:00:00Z"),
        10 => now,
        11 => plus(now, -1),
        12 => plus(now, 1),
        13 => plus(LATEST, -(x.rem_euclid(86_400 * 30))),
        _ => plus(now, x % (400 * 86_400)),
    }
}

/// How `now` moves for one step: mostly forward a little, sometimes years, sometimes back;
/// now and then a one-off extreme instant that does not stick.
fn next_now(sel: u8, x: i64, now: Timestamp) -> (Timestamp, Timestamp) {
    match sel % 20 {
        0..=11 => {
            let t = plus(now, x.rem_euclid(3 * 86_400));
            (t, t)
        }
        12..=14 => {
            let t = plus(now, x.rem_euclid(10 * 365 * 86_400));
            (t, t)
        }
        15..=16 => {
            let t = plus(now, -x.rem_euclid(30 * 86_400));
            (t, t)
        }
        _ => (instant(sel / 20, x, now), now),
    }
}

fn currency(s: &str) -> Currency {
    Currency::new(s).unwrap()
}

/// An amount: none, at the ends of `i64`, negative, zero, huge, in the policy's currency or
/// another (with another minor unit); with `legal`, none or a plausible one.
fn money(sel: u8, x: i64, policy: &Policy, legal: bool) -> Option<Money> {
    if legal {
        return (!sel.is_multiple_of(3))
            .then(|| Money::new(x.rem_euclid(100_000), policy.currency));
    }
    let minor = match sel % 9 {
        0 => i64::MIN,
        1 => i64::MAX,
        2 => -1,
        3 => 0,
        4 => 1,
        5 => i64::MAX / 100 + 1,
        6 => x,
        _ => x.rem_euclid(1_000_000),
    };
    let cur = match sel / 9 % 8 {
        0 => return None,
        1 => currency("JPY"),
        2 => currency("KWD"),
        3 => currency("XXX"),
        _ => policy.currency,
    };
    Some(Money::new(minor, cur))
}

/// A text: empty, blank, huge, unicode and control characters, placeholders, or ordinary.
fn text(sel: u8) -> Text {
    static HUGE: OnceLock<Text> = OnceLock::new();
    match sel % 10 {
        0 => "".into(),
        1 => " \t\n".into(),
        2 => HUGE.get_or_init(|| "长".repeat(50_000).into()).clone(),
        3 => "ü日本語🎉\u{202e}\u{0}\u{ffff}".into(),
        4 => "{phone} {deadline} {{ }} {".into(),
        5 => "x".into(),
        _ => "an ordinary sentence".into(),
    }
}

fn opt_text(sel: u8) -> Option<Text> {
    (!sel.is_multiple_of(3)).then(|| text(sel / 3))
}

// ---- Key pools ------------------------------------------------------------------------------

/// The keys a policy defines, and keys it does not.
struct Pools {
    tiers: Vec<TierKey>,
    categories: Vec<CategoryPath>,
    departments: Vec<DepartmentKey>,
    remedies: Vec<RemedyKey>,
    clocks: Vec<ClockKey>,
    channels: Vec<ChannelKey>,
    roles: Vec<RoleKey>,
    actions: Vec<ActionKey>,
}

const UNKNOWN: &[&str] = &[
    "bogus",
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
    "a:b.c_d-e",
];

impl Pools {
    fn of(policy: &Policy) -> Self {
        fn walk(
            nodes: &[policy::CategoryNode],
            prefix: &mut Vec<CategoryKey>,
            out: &mut Vec<CategoryPath>,
        ) {
            for n in nodes {
                prefix.push(n.key.clone());
                out.push(CategoryPath::new(prefix.clone()));
                walk(&n.children, prefix, out);
                prefix.pop();
            }
        }
        let mut categories = Vec::new();
        walk(&policy.categories, &mut Vec::new(), &mut categories);
        Self {
            tiers: policy.tiers.iter().map(|t| t.key.clone()).collect(),
            categories,
            departments: policy.departments.iter().map(|d| d.key.clone()).collect(),
            remedies: policy.remedies.iter().map(|r| r.key.clone()).collect(),
            clocks: policy.clocks.iter().map(|c| c.key.clone()).collect(),
            channels: policy.channels.iter().map(|c| c.key.clone()).collect(),
            roles: policy.roles.iter().map(|r| r.key.clone()).collect(),
            actions: policy.actions.iter().map(|a| a.key.clone()).collect(),
        }
    }
}

/// A key from `known` or, unless `legal` (or there are none), sometimes an unknown one.
fn key<T: Clone>(known: &[T], make: impl Fn(&str) -> T, n: u16, legal: bool) -> T {
    let n = usize::from(n);
    let extra = if legal && !known.is_empty() {
        0
    } else {
        UNKNOWN.len()
    };
    let i = n % (known.len() + extra);
    match known.get(i) {
        Some(k) => k.clone(),
        None => make(UNKNOWN[i - known.len()]),
    }
}

fn category(pools: &Pools, n: u16, legal: bool) -> CategoryPath {
    let extra = if legal && !pools.categories.is_empty() {
        0
    } else {
        3
    };
    let i = usize::from(n) % (pools.categories.len() + extra);
    match pools.categories.get(i) {
        Some(p) => p.clone(),
        None => match i - pools.categories.len() {
            0 => CategoryPath::parse("bogus/deeper").unwrap(),
            1 => {
                // A path one level below a known leaf.
                let mut levels = pools
                    .categories
                    .last()
                    .map_or(vec![], |p| p.levels().to_vec());
                levels.push(CategoryKey::new("deeper").unwrap());
                CategoryPath::new(levels)
            }
            _ => CategoryPath::new(vec![]),
        },
    }
}

// ---- Random steps ---------------------------------------------------------------------------

/// One random step, resolved against the policy and the complaint when it is taken.
#[derive(Debug, Clone)]
struct Raw {
    kind: u8,
    picks: [u16; 4],
    texts: [u8; 3],
    money: (u8, i64),
    at: (u8, i64),
    now: (u8, i64),
    who: u8,
    roles: u16,
    flag: bool,
    /// Steer towards commands the stage allows, by a plausible actor, with known keys.
    legal: bool,
}

fn raw(legal_weight: f64) -> impl Strategy<Value = Raw> {
    (
        (any::<u8>(), any::<[u16; 4]>(), any::<[u8; 3]>()),
        ((any::<u8>(), any::<i64>()), (any::<u8>(), any::<i64>())),
        (any::<u8>(), any::<i64>()),
        (any::<u8>(), any::<u16>(), any::<bool>()),
        prop::bool::weighted(legal_weight),
    )
        .prop_map(
            |((kind, picks, texts), (money, at), now, (who, roles, flag), legal)| Raw {
                kind,
                picks,
                texts,
                money,
                at,
                now,
                who,
                roles,
                flag,
                legal,
            },
        )
}

const KINDS: [CommandKind; CommandKind::ALL.len()] = CommandKind::ALL;

const COMPLAINANT_ID: &str = "cust-1";

fn staff(id: &str, roles: Vec<RoleKey>, dept: Option<&str>) -> Actor {
    Actor::staff(
        ActorId::new(id).unwrap(),
        roles,
        dept.map(|d| DepartmentKey::new(d).unwrap()),
    )
}

/// Who acts: with `legal`, someone who may (a member of staff holding every role, the
/// complainant for their commands, the system for a tick); otherwise anyone — staff with
/// random and unknown roles, the complainant, someone else's complainant, the system.
fn actor(r: &Raw, kind: CommandKind, pools: &Pools, c: Option<&Complaint>) -> Actor {
    let everything = |id: &str| staff(id, pools.roles.clone(), Some("bogus"));
    if r.legal {
        if kind == CommandKind::Tick {
            return Actor::system();
        }
        if CommandKind::COMPLAINANT.contains(&kind) && r.who.is_multiple_of(2) {
            let id = c.map_or(COMPLAINANT_ID.to_owned(), |c| {
                c.intake.complainant.id.to_string()
            });
            return Actor::complainant(ActorId::new(id).unwrap());
        }
        // The approver is never the proposer.
        let proposer = c
            .and_then(Complaint::current_proposal)
            .map(|p| p.proposed_by.as_str() == "staff-a");
        return everything(if proposer == Some(true) {
            "staff-b"
        } else {
            "staff-a"
        });
    }
    match r.who % 6 {
        0 => Actor::system(),
        1 => Actor::complainant(ActorId::new(COMPLAINANT_ID).unwrap()),
        2 => Actor::complainant(ActorId::new("cust-other").unwrap()),
        3 => everything("staff-a"),
        4 => staff("nobody", vec![RoleKey::new("bogus").unwrap()], None),
        _ => {
            let mut roles: Vec<RoleKey> = pools
                .roles
                .iter()
                .enumerate()
                .filter(|(i, _)| r.roles & (1 << (i % 15)) != 0)
                .map(|(_, k)| k.clone())
                .collect();
            if r.roles & 0x8000 != 0 {
                roles.push(RoleKey::new(UNKNOWN[1]).unwrap());
            }
            staff("staff-c", roles, None)
        }
    }
}

fn intake(r: &Raw, policy: &Policy, pools: &Pools, now: Timestamp) -> Intake {
    let legal = r.legal;
    let received_at = if legal {
        plus(now, -r.at.1.rem_euclid(86_400))
    } else {
        instant(r.at.0, r.at.1, now)
    };
    let m = |shift: u8| {
        let x = r.money.1.rotate_left(u32::from(shift) * 7);
        money(
            r.money.0.wrapping_add(shift.wrapping_mul(37)),
            x,
            policy,
            legal,
        )
    };
    let flags = [
        "safety",
        "illness",
        "media",
        "lawyer",
        "police",
        "consumer_association",
        "government",
        "regulator_transfer",
        "repeat",
        "extreme",
    ]
    .map(|f| Flag::new(f).unwrap())
    .into_iter()
    .enumerate()
    .filter(|(i, _)| r.roles & (1 << i) != 0)
    .map(|(_, f)| f)
    .collect();
    let contact = |sel: u8| match sel % 5 {
        0 => Contact::Phone(text(sel / 5).to_string()),
        1 => Contact::Email(text(sel / 5).to_string()),
        2 => Contact::Phone("+86 138-1234-5678".into()),
        3 => Contact::Email("zhang.san@example.com".into()),
        _ => Contact::Postal(text(sel / 5).to_string()),
    };
    Intake {
        complainant: Complainant {
            id: ActorId::new(COMPLAINANT_ID).unwrap(),
            name: text(r.texts[0]).to_string(),
            contacts: (0..r.texts[1] % 4)
                .map(|k| contact(r.texts[2].wrapping_add(k)))
                .collect(),
        },
        channel: key(
            &pools.channels,
            |s| ChannelKey::new(s).unwrap(),
            r.picks[0],
            legal,
        ),
        received_at,
        subject: Subject {
            order: opt_text(r.texts[1]),
            waybill: opt_text(r.texts[2]),
            product: None,
            place: opt_text(r.texts[0]),
            purchased_at: r.picks[1]
                .is_multiple_of(3)
                .then(|| instant(r.now.0, r.now.1, now))
                .filter(|_| !legal),
            amount_at_stake: m(0),
            declared_value: m(1),
            insured: r.flag,
            postage: m(2),
            price: m(3),
        },
        description: if legal {
            "late".into()
        } else {
            text(r.texts[1])
        },
        evidence: (0..r.picks[2] % 4)
            .map(|k| Evidence {
                kind: EvidenceKind::Photo,
                reference: text(r.texts[0].wrapping_add(k as u8)),
                content_hash: opt_text(r.texts[2]),
            })
            .collect(),
        requested_remedy: opt_text(r.texts[2]),
        staff_involved: vec![text(r.texts[0])],
        flags,
        people_affected: match r.picks[3] % 4 {
            0 => None,
            1 => Some(u32::MAX),
            2 => Some(0),
            _ => Some(u32::from(r.picks[3])),
        },
    }
}

fn responsibility(r: &Raw, pools: &Pools) -> Responsibility {
    let dept = |n: u16| {
        key(
            &pools.departments,
            |s| DepartmentKey::new(s).unwrap(),
            n,
            r.legal,
        )
    };
    let primary = dept(r.picks[1]);
    let collaborating = (0..r.picks[2] % 3)
        .map(|k| dept(r.picks[3].wrapping_add(k)))
        .filter(|d| !r.legal || d != &primary)
        .collect();
    Responsibility {
        primary,
        collaborating,
        party: if r.flag {
            Party::External {
                partner: text(r.texts[0]),
            }
        } else {
            Party::Internal {
                unit: text(r.texts[1]),
            }
        },
    }
}

fn satisfaction(r: &Raw) -> Satisfaction {
    Satisfaction {
        satisfied: r.flag || (r.legal && !r.texts[0].is_multiple_of(4)),
        score: match r.picks[0] % 4 {
            0 => None,
            1 if !r.legal => Some(r.texts[1]),
            _ => Some(1 + r.texts[1] % 5),
        },
        comment: opt_text(r.texts[2]),
    }
}

/// The command of `kind`, its parameters drawn from `r`.
fn command(
    kind: CommandKind,
    r: &Raw,
    policy: &Policy,
    pools: &Pools,
    id: &ComplaintId,
    now: Timestamp,
) -> Command {
    let legal = r.legal;
    let tier = |n: u16| key(&pools.tiers, |s| TierKey::new(s).unwrap(), n, legal);
    let remedy = |n: u16| key(&pools.remedies, |s| RemedyKey::new(s).unwrap(), n, legal);
    let nonempty = |sel: u8| if legal { text(sel % 5 + 5) } else { text(sel) };
    let amount = || money(r.money.0, r.money.1, policy, legal);
    match kind {
        CommandKind::Receive => Command::Receive(Arc::new(intake(r, policy, pools, now))),
        CommandKind::Acknowledge => Command::Acknowledge,
        CommandKind::Triage => Command::Triage {
            category: category(pools, r.picks[0], legal),
            tier: (!r.picks[1].is_multiple_of(3)).then(|| tier(r.picks[2])),
            validity: if r.picks[3].is_multiple_of(4) {
                Validity::Invalid {
                    reason: InvalidReason::NotResponsible,
                }
            } else {
                Validity::Valid
            },
        },
        CommandKind::Explain => Command::Explain {
            text: nonempty(r.texts[0]),
        },
        CommandKind::AcceptExplanation => Command::AcceptExplanation,
        CommandKind::RejectExplanation => Command::RejectExplanation {
            reason: opt_text(r.texts[0]),
        },
        CommandKind::Route => Command::Route {
            responsibility: r.picks[0]
                .is_multiple_of(2)
                .then(|| responsibility(r, pools)),
        },
        CommandKind::Reassign => Command::Reassign {
            responsibility: responsibility(r, pools),
            reason: nonempty(r.texts[0]),
        },
        CommandKind::RecordFindings => Command::RecordFindings {
            findings: Findings {
                summary: nonempty(r.texts[0]),
                records: vec![text(r.texts[1])],
            },
            root_cause: r.picks[1]
                .is_multiple_of(2)
                .then(|| category(pools, r.picks[0], legal)),
        },
        CommandKind::Propose => Command::Propose {
            remedy: remedy(r.picks[0]),
            description: nonempty(r.texts[0]),
            amount: amount(),
        },
        CommandKind::Approve => Command::Approve {
            note: opt_text(r.texts[0]),
        },
        CommandKind::DeclineApproval => Command::DeclineApproval {
            reason: nonempty(r.texts[0]),
        },
        CommandKind::AcceptProposal => Command::AcceptProposal {
            agreement: r.flag.then(|| DocumentRef {
                reference: text(r.texts[0]),
                content_hash: opt_text(r.texts[1]),
            }),
        },
        CommandKind::RejectProposal => Command::RejectProposal {
            reason: opt_text(r.texts[0]),
        },
        CommandKind::RecordExecution => Command::RecordExecution {
            action: nonempty(r.texts[0]),
            reference: opt_text(r.texts[1]),
            finished: r.flag || legal,
        },
        CommandKind::GiveFeedback => Command::GiveFeedback {
            text: nonempty(r.texts[0]),
        },
        CommandKind::ConfirmSatisfaction => Command::ConfirmSatisfaction(satisfaction(r)),
        CommandKind::FollowUp => Command::FollowUp(satisfaction(r)),
        CommandKind::Close => Command::Close,
        CommandKind::ResolveOnTheSpot => Command::ResolveOnTheSpot {
            remedy: remedy(r.picks[0]),
            description: nonempty(r.texts[0]),
        },
        CommandKind::Withdraw => Command::Withdraw {
            reason: opt_text(r.texts[0]),
        },
        CommandKind::Merge => Command::Merge {
            into: match r.picks[0] % 3 {
                0 => id.clone(),
                1 => ComplaintId::new("OTHER-1").unwrap(),
                _ => ComplaintId::new(UNKNOWN[1]).unwrap(),
            },
        },
        CommandKind::ChangeTier => Command::ChangeTier {
            tier: tier(r.picks[0]),
            reason: nonempty(r.texts[0]),
        },
        CommandKind::AddEvidence => Command::AddEvidence(Evidence {
            kind: EvidenceKind::Other,
            reference: nonempty(r.texts[0]),
            content_hash: opt_text(r.texts[1]),
        }),
        CommandKind::ReportProgress => Command::ReportProgress {
            note: nonempty(r.texts[0]),
        },
        CommandKind::AgreeDeadline => Command::AgreeDeadline {
            clock: key(
                &pools.clocks,
                |s| ClockKey::new(s).unwrap(),
                r.picks[0],
                legal,
            ),
            deadline: if legal {
                plus(now, r.at.1.rem_euclid(30 * 86_400) + 1)
            } else {
                instant(r.at.0, r.at.1, now)
            },
        },
        CommandKind::RecordAction => Command::RecordAction {
            action: key(
                &pools.actions,
                |s| ActionKey::new(s).unwrap(),
                r.picks[1],
                legal,
            ),
            note: if legal {
                Some(nonempty(r.texts[0]))
            } else {
                opt_text(r.texts[0])
            },
            document: (r.flag || legal).then(|| DocumentRef {
                reference: if legal {
                    nonempty(r.texts[1])
                } else {
                    text(r.texts[1])
                },
                content_hash: opt_text(r.texts[2]),
            }),
        },
        CommandKind::Tick => Command::Tick {
            upto: if legal {
                now
            } else {
                instant(r.at.0, r.at.1, now)
            },
        },
        CommandKind::Consult => Command::Consult {
            intake: Arc::new(intake(r, policy, pools, now)),
            answer: nonempty(r.texts[1]),
        },
        CommandKind::ConvertToComplaint => Command::ConvertToComplaint {
            reason: nonempty(r.texts[0]),
        },
        CommandKind::AdjustPoints => Command::AdjustPoints {
            points: if legal {
                r.money.1.rem_euclid(20) - 10
            } else {
                r.money.1
            },
            reason: nonempty(r.texts[0]),
        },
        CommandKind::ErasePersonalData => Command::ErasePersonalData {
            reason: nonempty(r.texts[0]),
        },
        CommandKind::RedactText => Command::RedactText {
            version: if legal {
                u64::from(r.picks[0] % 12) + 1
            } else {
                r.money.1.unsigned_abs()
            },
            field: ["note", "reason", "text", "summary", "records.0", "nope", ""]
                [usize::from(r.picks[1]) % 7]
                .into(),
            reason: nonempty(r.texts[0]),
        },
        other => panic!("no generator for {other}"),
    }
}

/// The kind of command a step gives: with `legal`, one the stage allows (mostly one that
/// moves the complaint on); otherwise any (one that ends the complaint only now and then, so
/// runs get somewhere).
fn kind_of(r: &Raw, c: Option<&Complaint>) -> CommandKind {
    let ends = |k: CommandKind| {
        matches!(
            k,
            CommandKind::Withdraw | CommandKind::Merge | CommandKind::ResolveOnTheSpot
        )
    };
    let any = || match KINDS[usize::from(r.kind) % KINDS.len()] {
        k if ends(k) && !r.who.is_multiple_of(4) => CommandKind::Tick,
        k => k,
    };
    let Some(c) = c else {
        return if r.legal || !r.kind.is_multiple_of(4) {
            // Now and then a contact is answered as a consultation.
            if r.kind % 8 == 1 {
                CommandKind::Consult
            } else {
                CommandKind::Receive
            }
        } else {
            any()
        };
    };
    if !r.legal {
        return any();
    }
    // Commands legal in every open stage keep it: mostly take one that moves on.
    let keeps = |k: CommandKind| {
        matches!(
            k,
            CommandKind::Acknowledge
                | CommandKind::AddEvidence
                | CommandKind::ChangeTier
                | CommandKind::ReportProgress
                | CommandKind::RecordAction
                | CommandKind::AgreeDeadline
                | CommandKind::Tick
                | CommandKind::Reassign
        )
    };
    let allowed = |pred: &dyn Fn(CommandKind) -> bool| -> Vec<CommandKind> {
        KINDS
            .iter()
            .copied()
            .filter(|&k| !matches!(k, CommandKind::Receive | CommandKind::Consult))
            .filter(|&k| plaint_core::lifecycle::graph::allows(c.stage.kind(), k))
            .filter(|&k| pred(k))
            .collect()
    };
    let mut choice = match r.kind % 20 {
        0 => allowed(&|_| true),
        1..=6 => allowed(&|k| !ends(k)),
        _ => allowed(&|k| !ends(k) && !keeps(k)),
    };
    if choice.is_empty() {
        choice = allowed(&|k| !ends(k));
    }
    match choice.len() {
        0 => any(),
        n => choice[usize::from(r.picks[3]) % n],
    }
}

// ---- Driving a complaint --------------------------------------------------------------------

/// One complaint driven through `decide` and `Complaint::apply`, with its history.
struct Run<'p> {
    policy: &'p Policy,
    pools: Pools,
    id: ComplaintId,
    state: Option<Complaint>,
    history: Vec<Recorded>,
    now: Timestamp,
    commands: u64,
}

impl<'p> Run<'p> {
    fn new(policy: &'p Policy) -> Self {
        Self {
            policy,
            pools: Pools::of(policy),
            id: ComplaintId::new("C-1").unwrap(),
            state: None,
            history: Vec::new(),
            now: ts("2026-11-16T09:00:00Z"),
            commands: 0,
        }
    }

    /// Takes one step. Panics only if the library does, or if accepted events do not fold
    /// to the state their replay gives.
    fn step(&mut self, r: &Raw) {
        let (now, keep) = next_now(r.now.0, r.now.1, self.now);
        self.now = keep;
        let kind = kind_of(r, self.state.as_ref());
        let command = command(kind, r, self.policy, &self.pools, &self.id, now);
        let actor = actor(r, kind, &self.pools, self.state.as_ref());
        let decided = decide(self.state.as_ref(), self.policy, command, &actor, now);
        let events = match decided {
            Ok(events) => events,
            Err(rejection) => {
                let _ = rejection.to_string();
                return;
            }
        };
        assert!(!events.is_empty(), "an accepted command produces events");
        self.commands += 1;
        let cmd = CommandId::new(format!("c-{}", self.commands)).unwrap();
        let after = self.state.as_ref().map_or(0, |c| c.version);
        let recorded = Recorded::numbered(events, after, now, &actor, &cmd);
        // What the engine does with them: notifications with their texts, display lines.
        let _ = notifications_for(&self.id, self.state.as_ref(), &recorded, self.policy);
        let zone = self.policy.time_zone();
        for rec in &recorded {
            let _ = (
                rec.event.to_string(),
                rec.event.display_in(zone).to_string(),
            );
            match &mut self.state {
                Some(c) => c.apply(rec),
                None => self.state = Complaint::open(self.id.clone(), rec),
            }
        }
        self.history.extend(recorded);
        let state = self.state.as_ref().expect("a complaint once received");
        let _ = state.next_due();
        assert_eq!(
            Complaint::replay(self.id.clone(), &self.history).as_ref(),
            Some(state)
        );
    }
}

type TestEngine = Engine<Arc<MemoryStore>, Arc<RecordingNotifier>, Arc<ManualClock>>;

/// The same steps through an engine over a `MemoryStore`, with a manual clock set to each
/// step's `now`, ticking and relaying as it goes.
fn through_engine(policy: &Policy, steps: &[Raw]) {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(ts("2026-11-16T09:00:00Z")));
    let notifier = Arc::new(RecordingNotifier::new());
    let engine: TestEngine = Engine::builder(Arc::clone(&store), policy.clone())
        .clock(Arc::clone(&clock))
        .notifier(Arc::clone(&notifier))
        .build();
    let pools = Pools::of(policy);
    let id = ComplaintId::new("C-1").unwrap();
    let mut now = ts("2026-11-16T09:00:00Z");
    for (i, r) in steps.iter().enumerate() {
        let (at, keep) = next_now(r.now.0, r.now.1, now);
        now = keep;
        clock.set(at);
        let state = engine.get(&id).unwrap();
        let kind = kind_of(r, state.as_deref());
        if kind == CommandKind::Tick && r.legal {
            engine.tick().unwrap();
        } else {
            let command = command(kind, r, policy, &pools, &id, at);
            let actor = actor(r, kind, &pools, state.as_deref());
            match engine.execute(
                CommandId::new(format!("c-{i}")).unwrap(),
                &id,
                command,
                &actor,
            ) {
                Ok(_) | Err(EngineError::Rejected(_)) => {}
                Err(e) => panic!("engine error: {e}"),
            }
        }
        if r.picks[2] % 4 == 0 {
            match engine.relay() {
                Ok(_) | Err(EngineError::Rejected(Rejection::Invalid { field: "now", .. })) => {}
                Err(e) => panic!("relay error: {e}"),
            }
        }
        let _ = engine.next_due().unwrap();
        if let Some(state) = engine.get(&id).unwrap() {
            let history = engine.history(&id).unwrap();
            assert_eq!(
                Complaint::replay(id.clone(), &history).as_ref(),
                Some(&*state)
            );
        }
    }
}

/// What a loaded policy can be asked for, and a short lifecycle on it.
fn exercise(policy: &Policy, steps: &[Raw]) {
    let _ = policy.diagram();
    let _ = policy.time_zone();
    let mut run = Run::new(policy);
    for r in steps {
        run.step(r);
    }
}

// ---- Properties -----------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(400), ..ProptestConfig::default() })]

    /// Mutated shipped policies, as TOML and as JSON, load or are refused; what loads is
    /// exercised.
    #[test]
    fn mutated_policies_load_or_are_refused(
        seed in any::<usize>(),
        json in any::<bool>(),
        mutations in prop::collection::vec(mutation(), 1..4),
        steps in prop::collection::vec(raw(0.9), 0..16),
    ) {
        // Four in five from the shipped policies, the rest from the broken-policy corpus.
        let toml_text = if seed % 5 == 0 {
            &bad_seeds()[seed / 5 % bad_seeds().len()]
        } else {
            &seeds()[seed / 5 % seeds().len()]
        };
        let mut text = if json { to_json(toml_text) } else { toml_text.clone() };
        for m in &mutations {
            text = mutate(text, m, json);
        }
        let loaded = if json { Policy::from_json_str(&text) } else { Policy::from_toml_str(&text) };
        match loaded {
            Ok(policy) => exercise(&policy, &steps),
            Err(e) => { let _ = e.to_string(); }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(250), ..ProptestConfig::default() })]

    /// Random commands with extreme values, by random actors at random instants, on the
    /// shipped policies: decided, applied and replayed without a panic.
    #[test]
    fn random_commands_never_panic(
        policy in 0..6usize,
        steps in prop::collection::vec(raw(0.7), 1..40),
    ) {
        let mut run = Run::new(&shipped()[policy]);
        for r in &steps {
            run.step(r);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(60), ..ProptestConfig::default() })]

    /// The same through an engine over a `MemoryStore`, ticking and relaying.
    #[test]
    fn random_commands_through_an_engine_never_panic(
        policy in 0..6usize,
        steps in prop::collection::vec(raw(0.7), 1..30),
    ) {
        through_engine(&shipped()[policy], &steps);
    }
}

/// One way a stored state can be damaged (a hand-built or corrupted `Complaint`, which
/// `decide` is given by whoever loads it): every field that holds a count, an instant or a
/// reference, set to what no fold of events produces.
#[derive(Debug, Clone)]
enum Damage {
    /// Any stage, whatever the rest says.
    Stage(u8),
    /// No category, tier, responsibility or proposal; or an unknown tier.
    Forget(u8),
    /// Counters at their limits.
    Counts(u8),
    /// An intake no receipt would accept (instants, money, texts, an unknown channel).
    Intake(Raw),
    /// One clock's numbers and instants at their limits.
    Clock(usize, u8, i64),
    /// A clock state for a clock the policy does not have, or a second one for a clock.
    ExtraClock(usize, bool),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        1 => any::<u8>().prop_map(Damage::Stage),
        1 => any::<u8>().prop_map(Damage::Forget),
        1 => any::<u8>().prop_map(Damage::Counts),
        1 => raw(0.0).prop_map(Damage::Intake),
        3 => (any::<usize>(), any::<u8>(), any::<i64>()).prop_map(|(i, f, x)| Damage::Clock(i, f, x)),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(i, dup)| Damage::ExtraClock(i, dup)),
    ]
}

fn stage(n: u8) -> Stage {
    match n % 16 {
        0 => Stage::Received,
        1 => Stage::Triaged,
        2 => Stage::Invalid,
        3 => Stage::Explained,
        4 => Stage::Investigating,
        5 => Stage::Proposing,
        6 => Stage::AwaitingApproval,
        7 => Stage::AwaitingAgreement,
        8 => Stage::Executing,
        9 => Stage::Executed,
        10 => Stage::AwaitingConfirmation,
        11 => Stage::Confirmed,
        12 => Stage::FollowedUp,
        13 => Stage::Closed {
            resolution: Resolution::Remedied,
        },
        14 => Stage::Withdrawn,
        _ => Stage::Merged {
            into: ComplaintId::new("OTHER-1").unwrap(),
        },
    }
}

fn inflict(c: &mut Complaint, d: &Damage, policy: &Policy, pools: &Pools) {
    match d {
        Damage::Stage(n) => c.stage = stage(*n),
        Damage::Forget(n) => match n % 6 {
            0 => c.category = None,
            1 => c.tier = None,
            2 => c.tier = Some(TierKey::new("bogus").unwrap()),
            3 => c.responsibility = None,
            4 => c.proposals.clear(),
            _ => {
                if let Some(p) = c.proposals.last_mut() {
                    p.amount = Some(Money::new(i64::MAX, currency("JPY")));
                    p.proposed_by = ActorId::new("staff-b").unwrap();
                }
            }
        },
        Damage::Counts(n) => match n % 4 {
            0 => c.version = u64::MAX,
            1 => c.reopened = u32::MAX,
            2 => c.reassignments = u32::MAX,
            _ => c.version = u64::MAX - 1,
        },
        Damage::Intake(r) => {
            let mut r = r.clone();
            r.legal = false;
            c.intake = Arc::new(intake(&r, policy, pools, c.updated_at));
        }
        Damage::Clock(i, field, x) => {
            let n = c.clocks.len().max(1);
            let Some(st) = c.clocks.get_mut(i % n) else {
                return;
            };
            let now = st.measured_at;
            let extreme_i64 = [i64::MIN, i64::MAX, 0, -1, *x][usize::from(*field / 16) % 5];
            let at = instant(field / 16, *x, now);
            match field % 16 {
                0 => st.budget = extreme_i64,
                1 => st.remaining = extreme_i64,
                2 => st.measured_at = at,
                3 => st.started_at = at,
                4 => st.schedule.deadline = Some(at),
                5 => st.schedule.warning = Some(at),
                6 => st.schedule.not_before = Some(at),
                7 => st.schedule.rungs = vec![at; usize::from(*field / 16) % 4],
                8 => st.cycle = u32::MAX,
                9 => st.rungs_fired = [0, u32::MAX, 7][usize::from(*field / 16) % 3],
                10 => {
                    st.warned = !st.warned;
                    st.breached = !st.breached;
                }
                11 => st.outcome = None,
                12 => st.pauses.push((at, None)),
                13 => {
                    let (lo, hi) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
                    st.pauses.extend(std::iter::repeat_n((lo, Some(hi)), 600));
                }
                14 => st.pauses.push((DateTime::<Utc>::MAX_UTC, Some(at))),
                _ => st.schedule = Default::default(),
            }
        }
        Damage::ExtraClock(i, dup) => {
            let Some(mut st) = c.clocks.first().cloned() else {
                return;
            };
            st.outcome = None;
            if !dup {
                st.clock = ClockKey::new(UNKNOWN[i % UNKNOWN.len()]).unwrap();
            }
            c.clocks.push(st);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(200), ..ProptestConfig::default() })]

    /// `decide` on a damaged state (one no history folds to) refuses or decides, and what it
    /// decides applies; nothing panics.
    #[test]
    fn decide_on_damaged_states_never_panics(
        policy in 0..6usize,
        history in prop::collection::vec(raw(0.95), 1..30),
        damages in prop::collection::vec(damage(), 1..5),
        then in prop::collection::vec(raw(0.5), 1..8),
    ) {
        let policy = &shipped()[policy];
        let mut run = Run::new(policy);
        for r in &history {
            run.step(r);
        }
        let Some(mut c) = run.state.take() else { return Ok(()) };
        for d in &damages {
            inflict(&mut c, d, policy, &run.pools);
        }
        let _ = (c.next_due(), c.negotiation_rounds());
        for st in &c.clocks {
            let _ = (st.paused_for(run.now), st.is_running(), st.next_due());
        }
        let mut now = run.now;
        for r in &then {
            let (at, keep) = next_now(r.now.0, r.now.1, now);
            now = keep;
            let kind = kind_of(r, Some(&c));
            let command = command(kind, r, policy, &run.pools, &run.id, at);
            let actor = actor(r, kind, &run.pools, Some(&c));
            if let Ok(events) = decide(Some(&c), policy, command, &actor, at) {
                let cmd = CommandId::new("damaged").unwrap();
                let recorded = Recorded::numbered(events, c.version.min(u64::MAX - 64), at, &actor, &cmd);
                let _ = notifications_for(&run.id, Some(&c), &recorded, policy);
                for rec in &recorded {
                    c.apply(rec);
                }
                let _ = c.next_due();
            }
        }
    }
}

/// The mutator and the command generator reach what they should: over a fixed set of
/// generated cases, some mutated policies still load and some runs get past triage.
#[test]
fn the_generators_reach_deep() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut loaded = 0;
    for _ in 0..60 {
        let m = prop::collection::vec(mutation(), 1..3)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut text = seeds()[0].clone();
        for m in &m {
            text = mutate(text, m, false);
        }
        loaded += usize::from(Policy::from_toml_str(&text).is_ok());
    }
    assert!(loaded > 3, "only {loaded} of 60 mutated policies loaded");
    let mut deepest = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let steps = prop::collection::vec(raw(0.9), 30..40)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut run = Run::new(&shipped()[0]);
        for r in &steps {
            run.step(r);
        }
        if let Some(c) = &run.state {
            deepest.insert(c.stage.kind());
        }
    }
    assert!(
        deepest
            .iter()
            .any(|s| !matches!(s, StageKind::Received | StageKind::Triaged)),
        "runs stayed shallow: {deepest:?}"
    );
}

// ---- Regressions: each panic the properties found, with its smallest input ------------------

/// A notifier whose every delivery fails.
struct Failing;

impl Notifier for Failing {
    async fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
        Err(NotifyError::Failed("down".into()))
    }
}

/// The sample complaint received and acknowledged (an acknowledgement notifies the
/// complainant), on an engine whose clock the test sets.
fn engine_with_outbox<N: Notifier>(
    notifier: N,
    backoff: Option<Duration>,
) -> (
    Engine<Arc<MemoryStore>, N, Arc<ManualClock>>,
    Arc<ManualClock>,
) {
    let clock = Arc::new(ManualClock::new(ts("2026-11-16T09:00:00Z")));
    let mut builder = Engine::builder(Arc::new(MemoryStore::new()), testing::policy())
        .clock(Arc::clone(&clock))
        .notifier(notifier);
    if let Some(b) = backoff {
        builder = builder.delivery_backoff(b, b);
    }
    let engine = builder.build();
    let id = testing::complaint_id();
    let received = Command::Receive(Arc::new(testing::intake(ts("2026-11-16T08:00:00Z"))));
    for (cmd, command) in [("c-1", received), ("c-2", Command::Acknowledge)] {
        engine
            .execute(
                CommandId::new(cmd).unwrap(),
                &id,
                command,
                &testing::agent(),
            )
            .unwrap();
    }
    (engine, clock)
}

/// Found by `random_commands_through_an_engine_never_panic`: relaying with the clock at the
/// end of what chrono represents panicked computing the claim's lease (`now + 5 min`,
/// ``DateTime + TimeDelta` overflowed``). The relay refuses such an instant as `execute`
/// does.
#[test]
fn relaying_outside_the_supported_instants_is_refused() {
    let (engine, clock) = engine_with_outbox(RecordingNotifier::new(), None);
    for t in [
        DateTime::<Utc>::MAX_UTC,
        DateTime::<Utc>::MIN_UTC,
        plus(LATEST, 1),
        plus(EARLIEST, -1),
    ] {
        clock.set(t);
        assert!(
            matches!(
                engine.relay(),
                Err(EngineError::Rejected(Rejection::Invalid {
                    field: "now",
                    ..
                }))
            ),
            "{t}"
        );
    }
    clock.set(LATEST);
    assert_eq!(engine.relay().unwrap().delivered, 1);
}

/// Found while fixing the one above: a failed delivery at the last supported instant with a
/// back-off of 290 million years panicked computing the next attempt. It now saturates at the
/// end of time. A huge negative back-off (a misconfiguration) panicked too, scaling it
/// (`TimeDelta::milliseconds(i64::MIN)`) or adding it; a negative back-off now waits not at
/// all.
#[test]
fn back_off_past_the_end_of_time_saturates() {
    let (engine, clock) = engine_with_outbox(Failing, Some(Duration::MAX));
    clock.set(LATEST);
    assert_eq!(engine.relay().unwrap().retrying, 1);
    assert_eq!(engine.relay().unwrap(), Relay::default(), "not due again");
    let (engine, clock) = engine_with_outbox(Failing, Some(Duration::MIN));
    clock.set(LATEST);
    // Due again at once: the relay tries until the notification is a dead letter.
    let relay = engine.relay().unwrap();
    assert_eq!((relay.retrying, relay.dead), (7, 1));
}

/// A state the sample policy with clocks folds `events` to, for damaging by hand.
fn state_at(stage: StageKind) -> Complaint {
    testing::Scenario::new(testing::sla_policy())
        .given(common::events_to(stage, "general"))
        .state()
        .unwrap()
}

/// The sample complaint received under the sample policy with clocks, its acknowledgement
/// clock running.
fn received_with_clock() -> Complaint {
    let intake = Arc::new(testing::intake(testing::t(0)));
    let agent = testing::agent();
    let policy = testing::sla_policy();
    let events = decide(
        None,
        &policy,
        Command::Receive(intake),
        &agent,
        testing::t(0),
    )
    .unwrap();
    let cmd = CommandId::new("c-1").unwrap();
    let recorded = Recorded::numbered(events, 0, testing::t(0), &agent, &cmd);
    let c = Complaint::replay(testing::complaint_id(), &recorded).unwrap();
    assert_eq!(c.clocks.len(), 1);
    c
}

/// Found by `decide_on_damaged_states_never_panics`: a state at version `u64::MAX` (no
/// history reaches it; a damaged store could hold it) made `decide` overflow numbering the
/// scratch events it folds to follow the clocks, and `Recorded::numbered` overflow numbering
/// the events after it. Both saturate.
#[test]
fn deciding_at_the_last_version_does_not_overflow() {
    let mut c = received_with_clock();
    c.version = u64::MAX;
    let policy = testing::sla_policy();
    let agent = testing::agent();
    let events = decide(
        Some(&c),
        &policy,
        Command::Acknowledge,
        &agent,
        testing::t(1),
    )
    .unwrap();
    let cmd = CommandId::new("c-9").unwrap();
    let recorded = Recorded::numbered(events, c.version, testing::t(1), &agent, &cmd);
    assert!(recorded.len() > 1, "the acknowledgement stops a clock too");
    assert!(recorded.iter().all(|r| r.version == u64::MAX));
    for r in &recorded {
        c.apply(r);
    }
    assert!(c.acknowledged_at.is_some());
}

/// Found alongside: `decide` expected a triaged complaint to have a category when routing by
/// policy, and a complaint awaiting approval to have a proposal. A damaged state without
/// them is refused.
#[test]
fn routing_or_approving_a_damaged_state_is_refused() {
    let policy = testing::sla_policy();
    let mut c = state_at(StageKind::Triaged);
    c.category = None;
    let route = Command::Route {
        responsibility: None,
    };
    assert!(matches!(
        decide(Some(&c), &policy, route, &testing::agent(), testing::t(1)),
        Err(Rejection::Invalid {
            field: "responsibility",
            ..
        })
    ));
    let mut c = state_at(StageKind::AwaitingApproval);
    c.proposals.clear();
    let approve = Command::Approve { note: None };
    let gm = testing::general_manager();
    assert!(matches!(
        decide(Some(&c), &policy, approve, &gm, testing::t(1)),
        Err(Rejection::Invalid {
            field: "proposal",
            ..
        })
    ));
}

/// Found by `decide_on_damaged_states_never_panics`: a pause ledger summing past
/// `Duration::MAX` (600 pauses from the first instant to the last) panicked in
/// `ClockState::paused_for`; the sum saturates. Counters at their limit saturate in
/// `Complaint::apply` too.
#[test]
fn a_damaged_pause_ledger_and_counters_saturate() {
    let mut c = received_with_clock();
    let st = &mut c.clocks[0];
    let (lo, hi) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    st.pauses = vec![(lo, Some(hi)); 600];
    assert_eq!(st.paused_for(testing::t(1)), Duration::MAX);
    c.reopened = u32::MAX;
    let reopened = Recorded::numbered(
        [Event::Reopened {
            cause: ReopenCause::UnsatisfiedAtFollowUp,
        }],
        c.version,
        testing::t(1),
        &testing::agent(),
        &CommandId::new("c-9").unwrap(),
    );
    c.apply(&reopened[0]);
    assert_eq!(c.reopened, u32::MAX);
}
