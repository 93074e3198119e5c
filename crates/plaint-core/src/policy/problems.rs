//! Problems found in a policy document, collected so that none hides the next.

use super::{Policy, Problem};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Problems found so far, and the keys of items that were reported and left out (so that a
/// reference to one is not reported a second time as unknown).
/// The third part: per list section with items left out, the document index of each item
/// kept, so checks that number the kept items report the document's numbers.
#[derive(Default)]
pub(super) struct Problems(
    pub(super) Vec<Problem>,
    pub(super) BTreeSet<(String, String)>,
    pub(super) BTreeMap<String, Vec<usize>>,
);

impl Problems {
    /// Whether `key` of `section` was defined but left out for a problem already reported.
    pub(super) fn left_out(&self, section: &str, key: &str) -> bool {
        self.1.contains(&(section.to_owned(), key.to_owned()))
    }

    pub(super) fn leave_out(&mut self, section: &str, item: &Value) {
        if let Some(key) = item.get("key").and_then(Value::as_str) {
            self.1.insert((section.to_owned(), key.to_owned()));
        }
    }

    pub(super) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Renumbers the paths of the problems from `from` on (found by checks over the items
    /// that were read) to the items' places in the document.
    pub(super) fn renumber(&mut self, from: usize) {
        for problem in self.0.iter_mut().skip(from) {
            let Some((section, rest)) = problem.path.split_once('[') else {
                continue;
            };
            let Some((index, tail)) = rest.split_once(']') else {
                continue;
            };
            let (Some(kept), Ok(i)) = (self.2.get(section), index.parse::<usize>()) else {
                continue;
            };
            if let Some(original) = kept.get(i) {
                problem.path = format!("{section}[{original}]{tail}");
            }
        }
    }

    /// Adds "did you mean …?" to each `unknown <thing> "<name>"` problem whose name is a
    /// near miss of a key the policy defines.
    pub(super) fn suggest(&mut self, policy: &Policy) {
        for problem in &mut self.0 {
            let Some((thing, name)) = unknown_key(&problem.message) else {
                continue;
            };
            let keys = keys_of(policy, thing);
            if let Some(near) = nearest(name, keys.iter().map(String::as_str)) {
                let hint = format!(" (did you mean \"{near}\"?)");
                problem.message.push_str(&hint);
            }
        }
    }
}

/// `unknown tier "nromal"` → `("tier", "nromal")`.
fn unknown_key(message: &str) -> Option<(&str, &str)> {
    let rest = message.strip_prefix("unknown ")?;
    let (thing, rest) = rest.split_once(" \"")?;
    let (name, _) = rest.split_once('"')?;
    Some((thing, name))
}

/// The keys the policy defines for `thing` (`tier`, `role`, …).
fn keys_of(policy: &Policy, thing: &str) -> Vec<String> {
    fn keys<T>(items: &[T], key: impl Fn(&T) -> &str) -> Vec<String> {
        items.iter().map(|i| key(i).to_owned()).collect()
    }
    match thing {
        "tier" => keys(&policy.tiers, |t| t.key.as_str()),
        "role" => keys(&policy.roles, |r| r.key.as_str()),
        "department" => keys(&policy.departments, |d| d.key.as_str()),
        "channel" => keys(&policy.channels, |c| c.key.as_str()),
        "remedy" => keys(&policy.remedies, |r| r.key.as_str()),
        "clock" => keys(&policy.clocks, |c| c.key.as_str()),
        "calendar" => keys(policy.calendars.defs(), |c| c.key.as_str()),
        "action" => keys(&policy.actions, |a| a.key.as_str()),
        "flag" => keys(&policy.flags, |f| f.key.as_str()),
        _ => Vec::new(),
    }
}

/// The candidate closest to `word` when it is a near miss: at most a third of its letters
/// (at least one) edited, ties to the first.
pub(super) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
