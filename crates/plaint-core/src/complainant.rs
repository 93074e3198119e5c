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

/// `text` with every phone number and email address it recognisably holds
/// [masked](Contact::masked): free text staff typed (a proposal, an action's label) on its
/// way into a notification to someone who may not see contacts. A phone number is a run of
/// at least seven digits, possibly with `+`, `-`, spaces, brackets and dots between them; an
/// email address is `local@domain.tld`.
///
/// ```
/// use plaint_core::complainant::mask_contacts_in;
/// assert_eq!(
///     mask_contacts_in("Call 138-1234-5678 or write to zhang.san@example.com by 5 pm."),
///     "Call 1**-****-5678 or write to z***@example.com by 5 pm."
/// );
/// assert_eq!(mask_contacts_in("Refund of 120.00 CNY on order 42"), "Refund of 120.00 CNY on order 42");
/// ```
pub fn mask_contacts_in(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let local = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-');
    let domain = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-');
    let sep = |c: char| matches!(c, '+' | '-' | ' ' | '(' | ')' | '.');
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        // An email address: the longest local part before an `@`, a dotted domain after it.
        if local(chars[i]) && (i == 0 || !local(chars[i - 1])) {
            let mut at = i;
            while at < chars.len() && local(chars[at]) {
                at += 1;
            }
            if at < chars.len() && chars[at] == '@' {
                let mut end = at + 1;
                while end < chars.len() && domain(chars[end]) {
                    end += 1;
                }
                while end > at + 1 && matches!(chars[end - 1], '.' | '-') {
                    end -= 1;
                }
                let host: String = chars[at + 1..end].iter().collect();
                if at > i && host.contains('.') && !host.starts_with('.') {
                    let email: String = chars[i..end].iter().collect();
                    out.push_str(&Contact::Email(email).masked());
                    i = end;
                    continue;
                }
            }
        }
        // A phone number: from a digit or `+`/`(`, digits and separators, ending on a digit.
        if (chars[i].is_ascii_digit() || matches!(chars[i], '+' | '('))
            && (i == 0 || !chars[i - 1].is_alphanumeric())
        {
            let mut end = i;
            let mut last_digit = None;
            while end < chars.len() && (chars[end].is_ascii_digit() || sep(chars[end])) {
                if chars[end].is_ascii_digit() {
                    last_digit = Some(end);
                }
                end += 1;
            }
            if let Some(last) = last_digit {
                let run = &chars[i..=last];
                let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
                let next_ok = chars.get(last + 1).is_none_or(|c| !c.is_alphanumeric());
                // A decimal amount (`120.00`) has a dot two from the end; numbers are long.
                if digits >= 7 && next_ok {
                    let phone: String = run.iter().collect();
                    out.push_str(&Contact::Phone(phone).masked());
                    i = last + 1;
                    continue;
                }
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
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
    fn contacts_in_free_text_are_masked_and_the_rest_kept() {
        let cases = [
            ("ring 13812345678 now", "ring 1******5678 now"),
            ("+86 138 1234 5678.", "+86 *** **** 5678."),
            (
                "mail a.b@mail.example.cn, thanks",
                "mail a***@mail.example.cn, thanks",
            ),
            ("order 20261120 shipped", "order ****1120 shipped"),
            ("12 parcels, 3 days late", "12 parcels, 3 days late"),
            ("no@domain here", "no@domain here"),
            ("SF1234567890", "SF1234567890"),
            ("", ""),
        ];
        for (text, want) in cases {
            assert_eq!(mask_contacts_in(text), want, "{text}");
        }
        for text in [
            "é@é.é",
            "@@@",
            "+++---",
            "(((1)))",
            "a@.b",
            "1-2-3-4-5-6-7-",
        ] {
            let _ = mask_contacts_in(text);
        }
    }

    #[test]
    fn short_numbers_are_fully_masked() {
        assert_eq!(Contact::Phone("110".into()).masked(), "***");
        assert_eq!(Contact::Email("nobody".into()).masked(), "***");
    }
}
