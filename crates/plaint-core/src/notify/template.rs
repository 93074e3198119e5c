//! Notification templates: a text with placeholders, parsed into pieces and filled in one
//! pass, so a value is never read as a template (staff free text saying `{phone}` stays
//! `{phone}`).

/// The placeholders a template may use, for messages.
pub(crate) const PLACEHOLDERS: &str = "{complaint}, {department}, {deadline}, \
    {deadline:<clock>}, {clock}, {action}, {proposal}, {amount}, {phone} or {email}";

/// What a placeholder stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field<'t> {
    /// `{complaint}`: the complaint's id.
    Complaint,
    /// `{department}`: the responsible department's label.
    Department,
    /// `{deadline}`: the deadline of the clock a clock moment is about.
    Deadline,
    /// `{deadline:a|b}`: the deadline of the first of these clocks that runs.
    DeadlineOf(Vec<&'t str>),
    /// `{clock}`: the clock a clock moment is about.
    Clock,
    /// `{action}`: the label of the action an action moment is about.
    Action,
    /// `{proposal}`: the current proposal's description.
    Proposal,
    /// `{amount}`: the current proposal's amount.
    Amount,
    /// `{phone}`: the complainant's phone.
    Phone,
    /// `{email}`: the complainant's email.
    Email,
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece<'t> {
    /// Literal text.
    Text(&'t str),
    /// A placeholder: as written (`{deadline:investigation}`) and what it stands for.
    Field(&'t str, Field<'t>),
    /// Text that is not a valid placeholder (`{phnoe}`, a `{` never closed), as written, and
    /// the problem with it. A policy that was loaded has none (they are load problems); one
    /// built in code may, and its texts show them as written.
    Invalid(&'t str, String),
}

/// Parses a template. `{{` and `}}` are literal braces; a lone `}` is literal too.
pub(crate) fn parse(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        if i > 0 {
            out.push(Piece::Text(&rest[..i]));
        }
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") || tail.starts_with('}') {
            out.push(Piece::Text(&tail[..1]));
            let skip = if tail.starts_with("{{") || tail.starts_with("}}") {
                2
            } else {
                1
            };
            rest = &tail[skip..];
            continue;
        }
        // `tail` starts with a single `{`: a placeholder runs to the next `}`, unless another
        // `{` comes first.
        match tail[1..].find(['{', '}']).map(|j| (j + 1, &tail[j + 1..])) {
            Some((close, after)) if after.starts_with('}') => {
                let whole = &tail[..=close];
                out.push(classify(whole, &tail[1..close]));
                rest = &tail[close + 1..];
            }
            other => {
                let end = other.map_or(tail.len(), |(j, _)| j);
                let written = &tail[..end];
                let shown: String = written.chars().take(24).collect();
                let more = if shown.len() < written.len() {
                    "…"
                } else {
                    ""
                };
                out.push(Piece::Invalid(
                    written,
                    format!(
                        "unclosed placeholder \"{shown}{more}\": close it with }}, or write {{{{ \
                         for a brace"
                    ),
                ));
                rest = &tail[end..];
            }
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// What the placeholder `whole` (`{inner}`) stands for.
fn classify<'t>(whole: &'t str, inner: &'t str) -> Piece<'t> {
    let (name, arg) = match inner.split_once(':') {
        Some((name, arg)) => (name, Some(arg)),
        None => (inner, None),
    };
    let field = match name {
        "complaint" => Field::Complaint,
        "department" => Field::Department,
        "deadline" => match arg {
            None => Field::Deadline,
            Some(arg) => {
                let keys: Vec<&str> = arg.split('|').collect();
                if keys.iter().any(|k| k.is_empty()) {
                    return Piece::Invalid(
                        whole,
                        format!(
                            "placeholder {whole} names no clock: write {{deadline}} or \
                             {{deadline:<clock>}} (several: {{deadline:<clock>|<clock>}})"
                        ),
                    );
                }
                return Piece::Field(whole, Field::DeadlineOf(keys));
            }
        },
        "clock" => Field::Clock,
        "action" => Field::Action,
        "proposal" => Field::Proposal,
        "amount" => Field::Amount,
        "phone" => Field::Phone,
        "email" => Field::Email,
        _ => {
            return Piece::Invalid(
                whole,
                format!(
                    "unknown placeholder {whole}: use {PLACEHOLDERS} (write {{{{ and }}}} for \
                     braces)"
                ),
            );
        }
    };
    match arg {
        None => Piece::Field(whole, field),
        Some(_) => Piece::Invalid(
            whole,
            format!("placeholder {whole} takes no argument: write {{{name}}}"),
        ),
    }
}

/// Fills a parsed template in one pass: each placeholder once, by `value`, which gives
/// `None` for a placeholder without a value (written `-`); invalid pieces stay as written.
/// Values are never parsed.
pub(crate) fn fill<'t>(
    pieces: &[Piece<'t>],
    mut value: impl FnMut(&Field<'t>) -> Option<String>,
) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) | Piece::Invalid(t, _) => out.push_str(t),
            Piece::Field(_, f) => match value(f) {
                Some(v) => out.push_str(&v),
                None => out.push('-'),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(t: &str) -> Vec<Piece<'_>> {
        parse(t)
    }

    #[test]
    fn placeholders_text_and_braces() {
        use Piece::{Field as F, Text as T};
        assert_eq!(
            fields("Hi {complaint}, by {deadline:a|b}. {{x}} }"),
            [
                T("Hi "),
                F("{complaint}", Field::Complaint),
                T(", by "),
                F("{deadline:a|b}", Field::DeadlineOf(vec!["a", "b"])),
                T(". "),
                T("{"),
                T("x"),
                T("}"),
                T(" "),
                T("}"),
            ]
        );
    }

    #[test]
    fn problems_are_kept_as_written() {
        let p = parse("{phnoe} {clock:x} {deadline:} {open {complaint}");
        let invalid: Vec<&str> = p
            .iter()
            .filter_map(|p| match p {
                Piece::Invalid(w, _) => Some(*w),
                _ => None,
            })
            .collect();
        assert_eq!(invalid, ["{phnoe}", "{clock:x}", "{deadline:}", "{open "]);
        let text = fill(&p, |_| Some("V".into()));
        assert_eq!(text, "{phnoe} {clock:x} {deadline:} {open V");
    }

    #[test]
    fn values_are_never_parsed() {
        let p = parse("{proposal}/{phone}");
        let text = fill(&p, |f| match f {
            Field::Proposal => Some("{phone}".into()),
            _ => None,
        });
        assert_eq!(text, "{phone}/-");
    }

    #[test]
    fn any_input_parses() {
        for t in [
            "", "{", "}", "{{", "}}", "{}", "{:}", "{a:b:c}", "é{ü", "{{{", "}}}",
        ] {
            let p = parse(t);
            let back: String = p
                .iter()
                .map(|p| match p {
                    Piece::Text(t) | Piece::Invalid(t, _) | Piece::Field(t, _) => *t,
                })
                .collect();
            assert_eq!(
                back.replace(['{', '}'], ""),
                t.replace(['{', '}'], ""),
                "{t}"
            );
        }
    }
}
