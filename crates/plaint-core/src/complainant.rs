//! The complainant and their contacts; personal data that `Debug` and `Display` always mask.

use crate::id::ActorId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Who complained. Their personal data is confidential: `Debug` masks the name's tail and
/// every contact, so logging a complaint never leaks a phone number or an email address.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complainant {
    /// The actor id the complainant uses when they act themselves (accept a proposal, …).
    pub id: ActorId,
    /// Name as given.
    pub name: String,
    /// How to reach them.
    pub contacts: Vec<Contact>,
}

impl fmt::Debug for Complainant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut name = self.name.chars();
        let first: String = name.next().into_iter().collect();
        f.debug_struct("Complainant")
            .field("id", &self.id)
            .field("name", &format_args!("{first}**"))
            .field("contacts", &self.contacts)
            .finish()
    }
}

/// One way to reach a complainant. `Debug` and `Display` mask the value; [`Contact::expose`]
/// gives it to code that really sends something.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Contact {
    /// A phone number.
    Phone(String),
    /// An email address.
    Email(String),
    /// A postal address.
    Postal(String),
    /// An account on an app or platform (a user id, a social-media handle).
    Account(String),
}

impl Contact {
    /// The raw value, for a notifier that must use it. Never log it.
    pub fn expose(&self) -> &str {
        match self {
            Contact::Phone(v) | Contact::Email(v) | Contact::Postal(v) | Contact::Account(v) => v,
        }
    }

    /// The value with everything but a few identifying characters replaced by `*`.
    ///
    /// ```
    /// use plaint_core::Contact;
    /// assert_eq!(Contact::Phone("13812345678".into()).masked(), "138****5678");
    /// assert_eq!(Contact::Email("zhang.san@example.com".into()).masked(), "z***@example.com");
    /// ```
    pub fn masked(&self) -> String {
        match self {
            Contact::Phone(v) => mask_phone(v),
            Contact::Email(v) => match v.split_once('@') {
                Some((local, domain)) => {
                    let first: String = local.chars().take(1).collect();
                    format!("{first}***@{domain}")
                }
                None => "***".to_owned(),
            },
            Contact::Postal(_) | Contact::Account(_) => "***".to_owned(),
        }
    }
}

fn mask_phone(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len().max(3));
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Contact::Phone(_) => "Phone",
            Contact::Email(_) => "Email",
            Contact::Postal(_) => "Postal",
            Contact::Account(_) => "Account",
        };
        write!(f, "{kind}({})", self.masked())
    }
}

impl fmt::Display for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_contacts() {
        let c = Complainant {
            id: ActorId::new("cust-1").unwrap(),
            name: "Zhang San".into(),
            contacts: vec![
                Contact::Phone("13812345678".into()),
                Contact::Email("zhang.san@example.com".into()),
                Contact::Postal("1 Long Road".into()),
            ],
        };
        let shown = format!("{c:?} {c:#?}");
        for secret in ["13812345678", "zhang.san", "Long Road", "San"] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
        assert!(shown.contains("138****5678"));
    }

    #[test]
    fn short_numbers_are_fully_masked() {
        assert_eq!(Contact::Phone("110".into()).masked(), "***");
        assert_eq!(Contact::Email("nobody".into()).masked(), "***");
    }
}
