//! The command forms: which fields each command kind's form has, and a submitted form turned
//! into a [`Command`] (through the command's own JSON shape, so the wire format decides).

use super::text::Lang;
use plaint::{Command, CommandKind, Policy};
use serde_json::{Map, Value, json};

/// One field of a command's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// Free text; `true` when required.
    Text(&'static str, bool),
    /// A checkbox.
    Check(&'static str),
    /// A number (`score` 1–5, `points`); optional unless it is `points`.
    Number(&'static str),
    /// A money amount in the policy's currency, written with its decimals.
    Amount,
    /// A tier of the policy; `true` when a "policy default" choice is offered.
    Tier(bool),
    /// A category path (`root_cause` when optional).
    Category(&'static str, bool),
    /// A remedy of the policy.
    Remedy,
    /// A department; `true` when "by the routing rules" may be chosen.
    Department(bool),
    /// Valid, or one of the reasons it is not.
    Validity,
    /// One of the actions the actor may record.
    Action,
    /// One of the running clocks.
    Clock,
    /// A local date and time in the policy's time zone.
    When(&'static str),
    /// The kind of evidence.
    EvidenceKind,
}

#[cfg(test)]
impl Field {
    /// The form field's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Text(n, _) | Self::Check(n) | Self::Number(n) | Self::Category(n, _) => n,
            Self::When(n) => n,
            Self::Amount => "amount",
            Self::Tier(_) => "tier",
            Self::Remedy => "remedy",
            Self::Department(_) => "department",
            Self::Validity => "validity",
            Self::Action => "action",
            Self::Clock => "clock",
            Self::EvidenceKind => "kind",
        }
    }
}

/// The fields of `kind`'s form.
pub(crate) fn fields(kind: CommandKind) -> &'static [Field] {
    use CommandKind as C;
    use Field as F;
    match kind {
        C::Triage => &[F::Category("category", true), F::Tier(true), F::Validity],
        C::Explain => &[F::Text("text", true)],
        C::RejectExplanation | C::RejectProposal | C::Withdraw => &[F::Text("reason", false)],
        C::Route => &[F::Department(true), F::Text("unit", false)],
        C::Reassign => &[
            F::Department(false),
            F::Text("unit", false),
            F::Text("reason", true),
        ],
        C::RecordFindings => &[F::Text("summary", true), F::Category("root_cause", false)],
        C::Propose => &[F::Remedy, F::Text("description", true), F::Amount],
        C::Approve => &[F::Text("note", false)],
        C::DeclineApproval | C::ConvertToComplaint | C::ErasePersonalData => {
            &[F::Text("reason", true)]
        }
        C::RecordExecution => &[
            F::Text("action", true),
            F::Text("reference", false),
            F::Check("finished"),
        ],
        C::GiveFeedback => &[F::Text("text", true)],
        C::ConfirmSatisfaction | C::FollowUp => &[
            F::Check("satisfied"),
            F::Number("score"),
            F::Text("comment", false),
        ],
        C::ResolveOnTheSpot => &[F::Remedy, F::Text("description", true)],
        C::Merge => &[F::Text("into", true)],
        C::ChangeTier => &[F::Tier(false), F::Text("reason", true)],
        C::AddEvidence => &[F::EvidenceKind, F::Text("reference", true)],
        C::ReportProgress => &[F::Text("note", true)],
        C::RecordAction => &[F::Action, F::Text("note", false)],
        C::AgreeDeadline => &[F::Clock, F::When("deadline")],
        C::AdjustPoints => &[F::Number("points"), F::Text("reason", true)],
        C::RedactText => &[
            F::Number("version"),
            F::Text("field", true),
            F::Text("reason", true),
        ],
        _ => &[],
    }
}

/// The evidence kinds a form offers (the wire names).
pub(crate) const EVIDENCE_KINDS: &[&str] = &[
    "photo",
    "video",
    "recording",
    "chat_log",
    "receipt",
    "statement",
    "other",
];

/// A submitted form as a command: the fields of `kind`'s form read from `form` into the
/// command's JSON, which [`Command`]'s own deserializer then checks. Blank optional fields
/// are absent. The error is a sentence for the person who filled the form in.
pub(crate) fn command(
    kind: CommandKind,
    form: &[(String, String)],
    policy: &Policy,
    lang: Lang,
) -> Result<Command, String> {
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let mut out = Map::new();
    out.insert("command".into(), json!(kind.name()));
    let mut department = None;
    let mut unit = None;
    for field in fields(kind) {
        match *field {
            Field::Text("unit", _) => unit = get("unit"),
            Field::Text("summary", _) => {
                out.insert(
                    "findings".into(),
                    json!({ "summary": get("summary").unwrap_or(""), "records": [] }),
                );
            }
            Field::Text(name, _) => {
                if let Some(v) = get(name) {
                    out.insert(name.into(), json!(v));
                }
            }
            Field::Check(name) => {
                out.insert(name.into(), json!(get(name).is_some()));
            }
            Field::Number(name) => {
                if let Some(v) = get(name) {
                    let n: i64 = v
                        .parse()
                        .map_err(|_| format!("{}: {v:?}", lang.t(name_key(name))))?;
                    out.insert(name.into(), json!(n));
                }
            }
            Field::Amount => {
                if let Some(v) = get("amount") {
                    let minor = minor_units(v, policy.currency.exponent())
                        .ok_or_else(|| format!("{}: {v:?}", lang.t("amount")))?;
                    out.insert(
                        "amount".into(),
                        json!({ "minor": minor, "currency": policy.currency.as_str() }),
                    );
                }
            }
            Field::Tier(_) => {
                out.insert("tier".into(), json!(get("tier")));
            }
            Field::Category(name, _) => {
                out.insert(name.into(), json!(get(name)));
            }
            Field::Remedy => {
                out.insert("remedy".into(), json!(get("remedy").unwrap_or("")));
            }
            Field::Department(_) => department = get("department"),
            Field::Validity => {
                let v = match get("validity").unwrap_or("valid") {
                    "valid" => json!({ "is": "valid" }),
                    reason => json!({ "is": "invalid", "reason": reason }),
                };
                out.insert("validity".into(), v);
            }
            Field::Action => {
                out.insert("action".into(), json!(get("action").unwrap_or("")));
            }
            Field::Clock => {
                out.insert("clock".into(), json!(get("clock").unwrap_or("")));
            }
            Field::When(name) => {
                let v = get(name).unwrap_or("");
                let at = local_instant(v, policy)
                    .ok_or_else(|| format!("{}: {v:?}", lang.t(name_key(name))))?;
                out.insert(name.into(), json!(at));
            }
            Field::EvidenceKind => {
                out.insert("kind".into(), json!(get("kind").unwrap_or("other")));
            }
        }
    }
    if matches!(kind, CommandKind::Route | CommandKind::Reassign) {
        let responsibility = department.map(|d| {
            let unit = unit.unwrap_or(d);
            json!({ "primary": d, "collaborating": [], "party": { "kind": "internal", "unit": unit } })
        });
        if kind == CommandKind::Reassign && responsibility.is_none() {
            return Err(format!("{}: {}", lang.t("department"), lang.t("required")));
        }
        out.insert("responsibility".into(), json!(responsibility));
    }
    if kind == CommandKind::RecordFindings {
        out.entry("root_cause").or_insert(Value::Null);
    }
    serde_json::from_value(Value::Object(out)).map_err(|e| e.to_string())
}

/// The word key a field name is labelled with.
pub(crate) fn name_key(name: &str) -> &str {
    match name {
        "description" => "details",
        "kind" => "evidence_kind",
        other => other,
    }
}

/// `12.34` with `exponent` decimals as minor units (`1234`); `None` for anything else.
fn minor_units(text: &str, exponent: u32) -> Option<i64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > exponent as usize || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (negative, digits) = match whole.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, whole),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scale = 10i64.checked_pow(exponent)?;
    let whole: i64 = digits.parse().ok()?;
    let mut frac_padded = frac.to_owned();
    while frac_padded.len() < exponent as usize {
        frac_padded.push('0');
    }
    let frac: i64 = if frac_padded.is_empty() {
        0
    } else {
        frac_padded.parse().ok()?
    };
    let minor = whole.checked_mul(scale)?.checked_add(frac)?;
    Some(if negative { -minor } else { minor })
}

/// A `datetime-local` value (`2026-11-20T18:00`) in the policy's time zone, as an instant.
fn local_instant(text: &str, policy: &Policy) -> Option<plaint::Timestamp> {
    use plaint::chrono::{NaiveDateTime, TimeZone, Utc};
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    let local = policy.time_zone().from_local_datetime(&naive).earliest()?;
    Some(local.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_its_words() {
        for kind in CommandKind::ALL {
            for f in fields(kind) {
                for lang in [Lang::En, Lang::Zh] {
                    assert_ne!(lang.t(name_key(f.name())), "?", "{kind} {f:?}");
                }
            }
        }
    }

    #[test]
    fn a_form_becomes_its_command() {
        let policy =
            Policy::from_toml_str(include_str!("../../../../examples/policies/express.toml"))
                .unwrap();
        let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let c = command(
            CommandKind::Propose,
            &form(&[
                ("remedy", "compensation"),
                ("description", "Refund"),
                ("amount", "12.5"),
            ]),
            &policy,
            Lang::En,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&c).unwrap()["amount"],
            json!({ "minor": 1250, "currency": "CNY" })
        );
        let c = command(CommandKind::Route, &form(&[]), &policy, Lang::En).unwrap();
        assert_eq!(
            serde_json::to_value(&c).unwrap()["responsibility"],
            Value::Null
        );
        let c = command(
            CommandKind::Triage,
            &form(&[("category", "delay"), ("validity", "misunderstanding")]),
            &policy,
            Lang::En,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&c).unwrap()["validity"],
            json!({ "is": "invalid", "reason": "misunderstanding" })
        );
        let c = command(
            CommandKind::RedactText,
            &form(&[
                ("version", "7"),
                ("field", "note"),
                ("reason", "a phone number"),
            ]),
            &policy,
            Lang::En,
        )
        .unwrap();
        assert_eq!(
            c,
            Command::RedactText {
                version: 7,
                field: "note".into(),
                reason: "a phone number".into(),
            }
        );
        // Shanghai is eight hours ahead: 18:00 there is 10:00 UTC.
        let c = command(
            CommandKind::AgreeDeadline,
            &form(&[("clock", "feedback"), ("deadline", "2026-11-20T18:00")]),
            &policy,
            Lang::En,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&c).unwrap()["deadline"],
            json!("2026-11-20T10:00:00Z")
        );
        for (kind, bad) in [
            (
                CommandKind::Propose,
                &[
                    ("remedy", "apology"),
                    ("description", "x"),
                    ("amount", "1.234"),
                ][..],
            ),
            (CommandKind::Triage, &[("validity", "valid")]),
            (CommandKind::Reassign, &[("reason", "x")]),
            (
                CommandKind::AdjustPoints,
                &[("points", "many"), ("reason", "x")],
            ),
        ] {
            assert!(
                command(kind, &form(bad), &policy, Lang::Zh).is_err(),
                "{kind} {bad:?}"
            );
        }
    }

    #[test]
    fn amounts_in_minor_units() {
        assert_eq!(minor_units("12.34", 2), Some(1234));
        assert_eq!(minor_units("12.3", 2), Some(1230));
        assert_eq!(minor_units("12", 2), Some(1200));
        assert_eq!(minor_units("-0.5", 2), Some(-50));
        assert_eq!(minor_units("7", 0), Some(7));
        for bad in [
            "",
            ".",
            "1.234",
            "1,00",
            "abc",
            "1e3",
            "--1",
            "99999999999999999999",
        ] {
            assert_eq!(minor_units(bad, 2), None, "{bad}");
        }
    }
}
