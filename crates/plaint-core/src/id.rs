//! Typed identifiers and policy keys: string newtypes that cannot be mixed up.
//!
//! Each wraps an `Arc<str>`: ids are copied into every event and record, and a clone is a
//! reference-count increment, not an allocation.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Longest identifier or key accepted, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Why a string was refused as an identifier or key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The string was empty.
    #[error("must not be empty")]
    Empty,
    /// The string was longer than [`MAX_ID_LEN`] bytes.
    #[error("longer than {MAX_ID_LEN} bytes")]
    TooLong,
    /// The string held a character outside `A-Z a-z 0-9 - _ . : /`.
    #[error("character {0:?} is not allowed (use A-Z a-z 0-9 - _ . : /)")]
    BadChar(char),
}

fn check(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong);
    }
    match s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/')))
    {
        Some(c) => Err(IdError::BadChar(c)),
        None => Ok(()),
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Arc<str>);

        impl $name {
            /// Checks and wraps `s`.
            ///
            /// # Errors
            /// [`IdError`] when `s` is empty, too long, or holds a character outside
            /// `A-Z a-z 0-9 - _ . : /`.
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check(&s)?;
                Ok(Self(s.into()))
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "pattern": "^[A-Za-z0-9._:/-]{1,64}$",
                })
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// A complaint's unique number, e.g. `EXP-2026-000123`. Chosen by the embedding service.
    ComplaintId
);
string_id!(
    /// A command's idempotency key: retrying a command with the same id returns the first result.
    CommandId
);

impl CommandId {
    /// An id the engine makes itself from checked parts (it may exceed [`MAX_ID_LEN`]).
    pub(crate) fn internal(s: String) -> Self {
        Self(s.into())
    }
}
string_id!(
    /// Who acted: a staff member, a complainant, or the system.
    ActorId
);
string_id!(
    /// A severity tier defined by the policy (`general`, `major`, …).
    TierKey
);
string_id!(
    /// One node of the policy's category tree (`delay`, `foreign-matter`, …).
    CategoryKey
);
string_id!(
    /// A department defined by the policy (`outlet`, `housekeeping`, …).
    DepartmentKey
);
string_id!(
    /// A role defined by the policy (`agent`, `general-manager`, …).
    RoleKey
);
string_id!(
    /// A channel defined by the policy (`hotline`, `app`, `regulator`, …).
    ChannelKey
);
string_id!(
    /// A business calendar defined by the policy (`office`, `hotline-24x7`, …).
    CalendarKey
);
string_id!(
    /// An SLA clock defined by the policy (`first-response`, `resolution`, …).
    ClockKey
);
string_id!(
    /// A remedy kind the policy allows (`refund`, `compensation`, …).
    RemedyKey
);
string_id!(
    /// An action kind the policy declares (`callback`, `progress-report`, …): a step of the
    /// procedure that is neither a stage nor the complainant's business.
    ActionKey
);
string_id!(
    /// A severity flag the policy declares (`media`, `lawyer`, `illness`, …): a circumstance
    /// the receiver notes on the intake and severity rules read. Written as the flag's key,
    /// as the snake_case names of the fixed flags of plaint 0.1 (`consumer_association`)
    /// were, so intakes stored by 0.1 read the same.
    Flag
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert_eq!(
            ComplaintId::new("EXP-2026-1").unwrap().as_str(),
            "EXP-2026-1"
        );
        assert_eq!(ComplaintId::new(""), Err(IdError::Empty));
        assert_eq!(ComplaintId::new("a b"), Err(IdError::BadChar(' ')));
        assert_eq!(ComplaintId::new("x".repeat(65)), Err(IdError::TooLong));
    }

    #[test]
    fn serde_refuses_bad_ids() {
        let ok: TierKey = serde_json::from_str("\"major\"").unwrap();
        assert_eq!(ok.as_str(), "major");
        let err = serde_json::from_str::<TierKey>("\"ma jor\"").unwrap_err();
        assert!(err.to_string().contains("not allowed"), "{err}");
    }
}
