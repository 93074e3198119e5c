//! The complainant and their contacts; personal data that `Debug` and `Display` always mask.

use crate::id::ActorId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Who complained. Their personal data is confidential: `Debug` masks the name's tail and
/// every contact, so logging a complaint never leaks a phone number or an email address.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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

    /// The same kind of contact with its value [masked](Contact::masked): what a view shows
    /// someone who may not see it.
    ///
    /// ```
    /// use plaint_core::Contact;
    /// let masked = Contact::Phone("13812345678".into()).to_masked();
    /// assert_eq!(masked, Contact::Phone("1******5678".into()));
    /// ```
    pub fn to_masked(&self) -> Contact {
        match self {
            Contact::Phone(_) => Contact::Phone(self.masked()),
            Contact::Email(_) => Contact::Email(self.masked()),
            Contact::Postal(_) => Contact::Postal(self.masked()),
            Contact::Account(_) => Contact::Account(self.masked()),
        }
    }

    /// The value with everything but a few identifying characters replaced by `*`. A phone
    /// number keeps at most its last four and first three digits, and never more than half
    /// of them (a number of fewer than seven digits is masked whole); separators (`+`, `-`,
    /// spaces, brackets, dots) stay, anything else is masked.
    ///
    /// ```
    /// use plaint_core::Contact;
    /// assert_eq!(Contact::Phone("13812345678".into()).masked(), "1******5678");
    /// assert_eq!(Contact::Phone("12345678".into()).masked(), "****5678");
    /// assert_eq!(Contact::Phone("+86 138-1234-5678".into()).masked(), "+86 ***-****-5678");
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

/// Masks a phone number so that at least half its digits are hidden: of `n` digits (`n` at
/// least 7) it shows `n / 2`, the last four first and then up to three at the front.
fn mask_phone(v: &str) -> String {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    if digits < 7 {
        return "*".repeat(v.chars().count().max(3));
    }
    let visible = digits / 2;
    let tail = visible.min(4);
    let head = (visible - tail).min(3);
    let mut seen = 0;
    v.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen <= head || seen > digits - tail {
                    return c;
                }
                return '*';
            }
            if matches!(c, '+' | '-' | ' ' | '(' | ')' | '.') {
                c
            } else {
                '*'
            }
        })
        .collect()
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
        assert!(shown.contains("1******5678"));
    }

    /// Review item 14: at least half the digits of a phone number of any length are hidden.
    #[test]
    fn phone_masks_hide_at_least_half_of_the_digits() {
        for n in 1..=20usize {
            let number: String = "1234567890".chars().cycle().take(n).collect();
            let masked = Contact::Phone(number.clone()).masked();
            let shown = masked.chars().filter(char::is_ascii_digit).count();
            assert!(
                2 * shown <= n,
                "{number} masks to {masked}: {shown} of {n} digits shown"
            );
        }
        let masked = Contact::Phone("+86 138-1234-5678".into()).masked();
        let shown = masked.chars().filter(char::is_ascii_digit).count();
        assert!(2 * shown <= 13, "{masked}");
    }

    #[test]
    fn short_numbers_are_fully_masked() {
        assert_eq!(Contact::Phone("110".into()).masked(), "***");
        assert_eq!(Contact::Email("nobody".into()).masked(), "***");
    }
}
