//! Loading a policy document: each section and each list item is read on its own, so one
//! mistake does not hide the next; then the semantic checks run on what was read.

use super::problems::Problems;
use super::{Policy, PolicyError, Problem};
use crate::calendar::Calendars;
use crate::calendar::{BusinessCalendar, CalendarDef};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The top-level keys of a policy document.
const KNOWN: &[&str] = &[
    "format",
    "id",
    "version",
    "name",
    "locale",
    "currency",
    "channels",
    "categories",
    "tiers",
    "default_tier",
    "flags",
    "severity",
    "departments",
    "routing",
    "max_reassignments",
    "roles",
    "actions",
    "remedies",
    "steps",
    "calendars",
    "clocks",
    "scoring",
    "reports",
    "privacy",
    "notifications",
];

/// A TOML value as JSON, with TOML dates and times as their text (as a quoted string would be).
pub(super) fn from_toml(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(from_toml).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, from_toml(v))).collect())
        }
    }
}

/// How many problems one item may report before the rest are left unsaid.
const PER_ITEM: usize = 16;

impl Problems {
    /// Reads `v` as a `T`, reporting every problem it has, not only the first: after each
    /// one the offending value is taken out and the item read again, until it reads or the
    /// next complaint is only the consequence of a value taken out.
    fn read<T: DeserializeOwned>(&mut self, path: &str, v: &Value) -> Option<T> {
        let mut v = std::borrow::Cow::Borrowed(v);
        let mut removed: Vec<Vec<Segment>> = Vec::new();
        for _ in 0..PER_ITEM {
            let e = match serde_path_to_error::deserialize::<_, T>(&*v) {
                Ok(t) if removed.is_empty() => return Some(t),
                Ok(_) => return None,
                Err(e) => e,
            };
            let segments = segments(e.path());
            let message = e.into_inner().to_string();
            // A required field taken out: nothing more can be read.
            let missing = message
                .strip_prefix("missing field `")
                .and_then(|m| m.split('`').next());
            if let Some(field) = missing {
                let mut gone = segments.clone();
                gone.push(Segment::Key(field.to_owned()));
                if removed.contains(&gone) {
                    return None;
                }
            }
            // A complaint about a value that held what was taken out is its consequence:
            // take that value out too, unsaid.
            if removed.iter().any(|r| r.starts_with(&segments)) {
                if segments.is_empty() || !take_out(v.to_mut(), &segments) {
                    return None;
                }
                removed.push(segments);
                continue;
            }
            let inner = e_path(&in_document(&segments, &removed));
            let at = if inner.is_empty() {
                path.to_owned()
            } else if inner.starts_with('[') {
                format!("{path}{inner}")
            } else {
                format!("{path}.{inner}")
            };
            let text = explain(&message, v.pointer(&pointer(&segments)), segments.last());
            self.add(at, text);
            if segments.is_empty() || !take_out(v.to_mut(), &segments) {
                return None;
            }
            removed.push(segments);
        }
        None
    }

    /// A required field.
    fn field<T: DeserializeOwned>(&mut self, doc: &Map<String, Value>, key: &str) -> Option<T> {
        match doc.get(key) {
            Some(v) => self.read(key, v),
            None => {
                self.add(key, "missing");
                None
            }
        }
    }

    /// An optional field, or its default.
    fn optional<T: DeserializeOwned + Default>(
        &mut self,
        doc: &Map<String, Value>,
        key: &str,
    ) -> Option<T> {
        match doc.get(key) {
            Some(v) => self.read(key, v),
            None => Some(T::default()),
        }
    }

    /// A list, each item read on its own.
    fn items<T: DeserializeOwned>(
        &mut self,
        doc: &Map<String, Value>,
        key: &str,
        required: bool,
    ) -> Vec<T> {
        match doc.get(key) {
            None if required => {
                self.add(key, "missing");
                Vec::new()
            }
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut kept = Vec::new();
                let read = items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let item = self.read(&format!("{key}[{i}]"), v);
                        match &item {
                            Some(_) => kept.push(i),
                            None => self.leave_out(key, v),
                        }
                        item
                    })
                    .collect();
                if kept.len() < items.len() {
                    self.2.insert(key.to_owned(), kept);
                }
                read
            }
            Some(_) => {
                self.add(key, "must be a list");
                Vec::new()
            }
        }
    }
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn segments(path: &serde_path_to_error::Path) -> Vec<Segment> {
    use serde_path_to_error::Segment as S;
    path.iter()
        .filter_map(|s| match s {
            S::Seq { index } => Some(Segment::Index(*index)),
            S::Map { key } => Some(Segment::Key(key.clone())),
            S::Enum { variant } => Some(Segment::Key(variant.clone())),
            S::Unknown => None,
        })
        .collect()
}

/// `segments` as numbered in the document, list items taken out before (in `removed`, in
/// order) counted back in.
fn in_document(segments: &[Segment], removed: &[Vec<Segment>]) -> Vec<Segment> {
    let mut path = segments.to_vec();
    for gone in removed.iter().rev() {
        let Some((Segment::Index(at), parent)) = gone.split_last() else {
            continue;
        };
        if let Some(Segment::Index(i)) = path.get(parent.len())
            && path.starts_with(parent)
            && i >= at
        {
            path[parent.len()] = Segment::Index(i + 1);
        }
    }
    path
}

/// The path as the problems print it: `targets.normal`, `[2].key`.
fn e_path(segments: &[Segment]) -> String {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Key(k) if out.is_empty() => out.push_str(k),
            Segment::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The JSON pointer of a path.
fn pointer(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| match s {
            Segment::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Segment::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// Removes the value at `segments`; whether there was one.
fn take_out(v: &mut Value, segments: &[Segment]) -> bool {
    let Some((last, parent)) = segments.split_last() else {
        return false;
    };
    let Some(parent) = v.pointer_mut(&pointer(parent)) else {
        return false;
    };
    match (parent, last) {
        (Value::Object(m), Segment::Key(k)) => m.remove(k).is_some(),
        (Value::Array(a), Segment::Index(i)) if *i < a.len() => {
            a.remove(*i);
            true
        }
        _ => false,
    }
}

/// A deserializer's message in words a policy writer can act on.
fn explain(message: &str, value: Option<&Value>, last: Option<&Segment>) -> String {
    // chrono's words for "2026-02-30" or "25:00:00".
    if message == "input is out of range" {
        return match value.and_then(Value::as_str) {
            Some(s) => format!("no such date or time: \"{s}\""),
            None => "no such date or time".into(),
        };
    }
    // serde's "unknown field `stop_onn`, expected one of `key`, `start_on`, …": name the
    // near miss instead of the whole list.
    if let Some((word, expected)) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
        .and_then(|m| m.split_once('`'))
        && let Some(near) = super::problems::nearest(word, expected.split('`').skip(1).step_by(2))
        && !KNOWN.contains(&word)
    {
        let what = if message.starts_with("unknown field") {
            "field"
        } else {
            "variant"
        };
        return format!("unknown {what} `{word}`: did you mean `{near}`?");
    }
    if let (Some(field), Some(Segment::Key(_))) = (message.strip_prefix("unknown field `"), last)
        && let Some(name) = field.split('`').next()
        && KNOWN.contains(&name)
    {
        return format!(
            "unknown field `{name}`: it is a top-level setting, and in TOML every key after a \
             `[table]` or `[[table]]` header belongs to that table: write it above the first header"
        );
    }
    message.to_owned()
}

/// Reads and checks a policy document. Items that do not read are reported and left out; the
/// semantic checks still run on the rest (so a reference to a left-out item is reported too),
/// unless a required scalar (`id`, `version`, `currency`, `default_tier`) is missing.
pub(super) fn load(doc: Value) -> Result<Policy, PolicyError> {
    let mut p = Problems::default();
    let Value::Object(doc) = doc else {
        p.add(".", "a policy is a table of sections");
        return Err(PolicyError::Invalid(p.0));
    };
    // The format first: an older document is refused as a whole, with what changed, rather
    // than with the problems its old constructs would cause.
    let format = match doc.get("format") {
        None => return Err(PolicyError::Format { found: None }),
        Some(v) => match v.as_u64().and_then(|f| u32::try_from(f).ok()) {
            Some(f) if f == Policy::FORMAT => f,
            Some(f) => return Err(PolicyError::Format { found: Some(f) }),
            None => {
                p.add(
                    "format",
                    "must be a whole number (this release reads format 2)",
                );
                return Err(PolicyError::Invalid(p.0));
            }
        },
    };
    for key in doc.keys().filter(|k| !KNOWN.contains(&k.as_str())) {
        match super::problems::nearest(key, KNOWN.iter().copied()) {
            Some(near) => p.add(
                key.clone(),
                format!("unknown section (did you mean `{near}`?)"),
            ),
            None => p.add(key.clone(), "unknown section"),
        }
    }
    let id = p.field(&doc, "id");
    let version = p.field(&doc, "version");
    let name = p.optional(&doc, "name");
    let locale: Option<Option<String>> = p.optional(&doc, "locale");
    let currency = p.field(&doc, "currency");
    let channels = p.items(&doc, "channels", true);
    let categories = p.items(&doc, "categories", true);
    let tiers = p.items(&doc, "tiers", true);
    let default_tier = p.field(&doc, "default_tier");
    let flags = p.items(&doc, "flags", false);
    let severity = p.items(&doc, "severity", false);
    let departments = p.items(&doc, "departments", true);
    let routing = p.items(&doc, "routing", false);
    let max_reassignments = p.optional(&doc, "max_reassignments");
    let roles = p.items(&doc, "roles", true);
    let actions = p.items(&doc, "actions", false);
    let remedies = p.items(&doc, "remedies", true);
    let steps = p.optional(&doc, "steps");
    let calendar_defs: Vec<CalendarDef> = p.items(&doc, "calendars", false);
    // Calendars that do not build are reported and left out.
    let mut good = Vec::new();
    for (i, def) in calendar_defs.into_iter().enumerate() {
        match BusinessCalendar::new(&def) {
            Ok(_) => good.push(def),
            Err(e) => {
                // Numbered as in the document, calendars that did not read counted in.
                let i =
                    p.2.get("calendars")
                        .and_then(|kept| kept.get(i))
                        .copied()
                        .unwrap_or(i);
                p.add(format!("calendars[{i}]"), e.to_string());
                p.1.insert(("calendars".into(), def.key.to_string()));
            }
        }
    }
    let clocks = p.items(&doc, "clocks", false);
    let scoring = p.optional(&doc, "scoring");
    let reports = p.optional(&doc, "reports");
    let privacy = p.optional(&doc, "privacy");
    let notifications = p.items(&doc, "notifications", false);
    let (
        Some(id),
        Some(version),
        Some(currency),
        Some(default_tier),
        Some(steps),
        Some(max_reassignments),
        Some(name),
        Some(locale),
        Some(scoring),
        Some(reports),
        Some(privacy),
    ) = (
        id,
        version,
        currency,
        default_tier,
        steps,
        max_reassignments,
        name,
        locale,
        scoring,
        reports,
        privacy,
    )
    else {
        return Err(PolicyError::Invalid(p.0));
    };
    let calendars = Calendars::new(good).map_err(|(key, e)| {
        PolicyError::Invalid(vec![Problem {
            path: format!("calendars.{key}"),
            message: e.to_string(),
        }])
    })?;
    let policy = Policy {
        format,
        id,
        version,
        name,
        locale: locale.unwrap_or_else(|| "en".into()),
        currency,
        channels,
        categories,
        tiers,
        default_tier,
        flags,
        severity,
        departments,
        routing,
        max_reassignments,
        roles,
        actions,
        remedies,
        steps,
        calendars,
        clocks,
        scoring,
        reports,
        privacy,
        notifications,
    };
    let read_problems = p.0.len();
    super::check::check(&policy, &mut p);
    p.renumber(read_problems);
    if p.0.is_empty() {
        Ok(policy)
    } else {
        p.suggest(&policy);
        Err(PolicyError::Invalid(p.0))
    }
}
