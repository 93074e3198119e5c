//! Problems found in a policy document, collected so that none hides the next.

use super::Problem;
use serde_json::Value;
use std::collections::BTreeSet;

/// Problems found so far, and the keys of items that were reported and left out (so that a
/// reference to one is not reported a second time as unknown).
#[derive(Default)]
pub(super) struct Problems(
    pub(super) Vec<Problem>,
    pub(super) BTreeSet<(String, String)>,
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
}
