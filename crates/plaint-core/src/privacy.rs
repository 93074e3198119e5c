//! Personal data: the one place that says which fields of the model are a complainant's
//! personal data, so stores can protect them and erasure can remove them.
//!
//! [`PersonalData::try_map_personal`] visits every personal field of a value and replaces it
//! with what the visitor returns; stores seal (encrypt) the fields with it before writing and
//! open them after reading, and [`PersonalData::erase_personal`] overwrites them with
//! [`ERASED`]. The personal fields are:
//!
//! - of an [`Intake`]: the complainant's name and every contact value, the complainant's own
//!   account (`description`), the remedy they ask for, and the references of the evidence
//!   they handed in;
//! - of events and state: the free text a complainant writes (why they reject an explanation
//!   or a proposal, their satisfaction comments, why they withdraw), the references of
//!   evidence and of the agreement they signed;
//! - of a notification: its rendered text (it may quote the name or a contact).
//!
//! Ids (the complainant's actor id, the complaint id), categories, tiers, money, instants and
//! staff-written records are not personal fields: reports and the audit trail are built on
//! them, and they survive an erasure.
//!
//! Staff-written free text may still quote a person (a phone number in a progress note), so
//! [`StaffText`] names every text field staff (or the engine) write in an event — the
//! explanation, findings, proposals, notes, reasons, answers — and [`redact`] overwrites one
//! of them with [`REDACTED`] (`Command::RedactText`, audited as `Event::TextRedacted`). The
//! reasons of the privacy events themselves are not among them: they are the audit entry.

use crate::complainant::{Complainant, Contact};
use crate::complaint::Complaint;
use crate::lifecycle::{Event, Recorded};
use crate::model::{DocumentRef, Evidence, Intake, Satisfaction, Text};
use crate::notify::Notification;
use std::convert::Infallible;
use std::sync::Arc;

/// What an erased personal field reads: timelines and views show it in its place.
pub const ERASED: &str = "[erased]";

/// What a redacted staff text reads ([`redact`]).
pub const REDACTED: &str = "[redacted]";

/// A value holding personal fields (see the [module](self) docs for which).
pub trait PersonalData {
    /// Replaces every personal field with `f` of its value, in a fixed order; stops at the
    /// first error.
    ///
    /// # Errors
    /// The first error `f` returns.
    fn try_map_personal<E>(
        &mut self,
        f: &mut dyn FnMut(&str) -> Result<String, E>,
    ) -> Result<(), E>;

    /// Replaces every personal field with `f` of its value.
    fn map_personal(&mut self, f: &mut dyn FnMut(&str) -> String) {
        let _ = self.try_map_personal::<Infallible>(&mut |s| Ok(f(s)));
    }

    /// Overwrites every personal field with [`ERASED`].
    ///
    /// Returns whether a field held anything but [`ERASED`] (so a store can skip rewriting
    /// what an earlier erasure already reached).
    fn erase_personal(&mut self) -> bool {
        let mut held = false;
        self.map_personal(&mut |s| {
            held |= s != ERASED;
            ERASED.to_owned()
        });
        held
    }

    /// The values of the personal fields, in the order [`PersonalData::try_map_personal`]
    /// visits them.
    fn personal_values(&self) -> Vec<String>
    where
        Self: Clone,
    {
        let mut out = Vec::new();
        self.clone().map_personal(&mut |s| {
            out.push(s.to_owned());
            s.to_owned()
        });
        out
    }
}

type Visit<'a, E> = &'a mut dyn FnMut(&str) -> Result<String, E>;

fn text<E>(t: &mut Text, f: Visit<'_, E>) -> Result<(), E> {
    *t = f(t)?.into();
    Ok(())
}

fn opt_text<E>(t: &mut Option<Text>, f: Visit<'_, E>) -> Result<(), E> {
    match t {
        Some(t) => text(t, f),
        None => Ok(()),
    }
}

fn string<E>(s: &mut String, f: Visit<'_, E>) -> Result<(), E> {
    *s = f(s)?;
    Ok(())
}

impl PersonalData for Complainant {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        string(&mut self.name, f)?;
        for c in &mut self.contacts {
            match c {
                Contact::Phone(v)
                | Contact::Email(v)
                | Contact::Postal(v)
                | Contact::Account(v) => string(v, f)?,
            }
        }
        Ok(())
    }
}

impl PersonalData for Evidence {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        text(&mut self.reference, f)
    }
}

impl PersonalData for DocumentRef {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        text(&mut self.reference, f)
    }
}

impl PersonalData for Satisfaction {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        opt_text(&mut self.comment, f)
    }
}

impl<T: PersonalData> PersonalData for Option<T> {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        match self {
            Some(v) => v.try_map_personal(f),
            None => Ok(()),
        }
    }
}

impl<T: PersonalData> PersonalData for Vec<T> {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        self.iter_mut().try_for_each(|v| v.try_map_personal(f))
    }
}

impl<T: PersonalData + Clone> PersonalData for Arc<T> {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        Arc::make_mut(self).try_map_personal(f)
    }
}

impl PersonalData for Intake {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        self.complainant.try_map_personal(f)?;
        text(&mut self.description, f)?;
        opt_text(&mut self.requested_remedy, f)?;
        self.evidence.try_map_personal(f)
    }
}

impl PersonalData for Event {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        match self {
            Event::Received { intake, .. } => intake.try_map_personal(f),
            Event::ExplanationRejected { reason }
            | Event::ProposalRejected { reason }
            | Event::Withdrawn { reason } => opt_text(reason, f),
            Event::ProposalAccepted { agreement } => agreement.try_map_personal(f),
            Event::SatisfactionRecorded { satisfaction, .. }
            | Event::FollowedUp { satisfaction } => satisfaction.try_map_personal(f),
            Event::EvidenceAdded { evidence } => evidence.try_map_personal(f),
            _ => Ok(()),
        }
    }
}

impl PersonalData for Recorded {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        self.event.try_map_personal(f)
    }
}

impl PersonalData for Complaint {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        self.intake.try_map_personal(f)?;
        self.evidence.try_map_personal(f)?;
        for p in &mut self.proposals {
            if let Some(r) = &mut p.response {
                opt_text(&mut r.reason, f)?;
            }
        }
        self.agreement.try_map_personal(f)?;
        self.satisfaction.try_map_personal(f)?;
        if let Some(fu) = &mut self.follow_up {
            fu.satisfaction.try_map_personal(f)?;
        }
        Ok(())
    }
}

impl PersonalData for Notification {
    fn try_map_personal<E>(&mut self, f: Visit<'_, E>) -> Result<(), E> {
        opt_text(&mut self.text, f)
    }
}

/// A value holding free text staff wrote: the fields [`redact`] may overwrite, each with the
/// name a redaction gives it (its field name in the event's JSON; `records.N` for the `N`th
/// record of findings, from 0).
pub trait StaffText {
    /// Replaces every staff text with `f` of its name and value, in a fixed order; stops at
    /// the first error.
    ///
    /// # Errors
    /// The first error `f` returns.
    fn try_map_staff_text<E>(
        &mut self,
        f: &mut dyn FnMut(&str, &str) -> Result<String, E>,
    ) -> Result<(), E>;

    /// Replaces every staff text with `f` of its name and value.
    fn map_staff_text(&mut self, f: &mut dyn FnMut(&str, &str) -> String) {
        let _ = self.try_map_staff_text::<Infallible>(&mut |n, s| Ok(f(n, s)));
    }

    /// The names and values of its staff texts, in the order they are visited.
    fn staff_texts(&self) -> Vec<(String, String)>
    where
        Self: Clone,
    {
        let mut out = Vec::new();
        self.clone().map_staff_text(&mut |n, s| {
            out.push((n.to_owned(), s.to_owned()));
            s.to_owned()
        });
        out
    }
}

type Named<'a, E> = &'a mut dyn FnMut(&str, &str) -> Result<String, E>;

fn named<E>(name: &str, t: &mut Text, f: Named<'_, E>) -> Result<(), E> {
    *t = f(name, t)?.into();
    Ok(())
}

fn opt_named<E>(name: &str, t: &mut Option<Text>, f: Named<'_, E>) -> Result<(), E> {
    match t {
        Some(t) => named(name, t, f),
        None => Ok(()),
    }
}

impl StaffText for Event {
    fn try_map_staff_text<E>(&mut self, f: Named<'_, E>) -> Result<(), E> {
        match self {
            Event::Explained { text } | Event::FeedbackGiven { text } => named("text", text, f),
            Event::Reassigned { reason, .. }
            | Event::ApprovalDeclined { reason }
            | Event::TierChanged { reason, .. }
            | Event::ClockReprojected { reason, .. }
            | Event::ConvertedToComplaint { reason }
            | Event::PointsAdjusted { reason, .. } => named("reason", reason, f),
            Event::FindingsRecorded { findings, .. } => {
                named("summary", &mut findings.summary, f)?;
                for (i, r) in findings.records.iter_mut().enumerate() {
                    named(&format!("records.{i}"), r, f)?;
                }
                Ok(())
            }
            Event::RemedyProposed { description, .. }
            | Event::ResolvedOnTheSpot { description, .. } => named("description", description, f),
            Event::ApprovalGranted { note, .. } => opt_named("note", note, f),
            Event::ProgressReported { note } => named("note", note, f),
            Event::ExecutionRecorded {
                action, reference, ..
            } => {
                named("action", action, f)?;
                opt_named("reference", reference, f)
            }
            Event::ActionRecorded { note, document, .. } => {
                opt_named("note", note, f)?;
                match document {
                    Some(d) => named("document", &mut d.reference, f),
                    None => Ok(()),
                }
            }
            Event::Consulted { answer } => named("answer", answer, f),
            _ => Ok(()),
        }
    }
}

impl StaffText for Recorded {
    fn try_map_staff_text<E>(&mut self, f: Named<'_, E>) -> Result<(), E> {
        self.event.try_map_staff_text(f)
    }
}

impl<T: StaffText> StaffText for Vec<T> {
    fn try_map_staff_text<E>(&mut self, f: Named<'_, E>) -> Result<(), E> {
        self.iter_mut().try_for_each(|v| v.try_map_staff_text(f))
    }
}

/// The state's copies of staff texts (a store seals them like the history's). They carry
/// no names: a redaction names the event's text, and the store folds the state again.
impl StaffText for Complaint {
    fn try_map_staff_text<E>(&mut self, f: Named<'_, E>) -> Result<(), E> {
        let notes = self
            .explanation
            .iter_mut()
            .chain(self.feedback.iter_mut())
            .chain(
                self.consultation
                    .iter_mut()
                    .flat_map(|c| std::iter::once(&mut c.answer).chain(c.converted.iter_mut())),
            );
        for n in notes {
            named("", &mut n.text, f)?;
        }
        if let Some(findings) = &mut self.findings {
            named("", &mut findings.summary, f)?;
            for r in &mut findings.records {
                named("", r, f)?;
            }
        }
        for p in &mut self.proposals {
            named("", &mut p.description, f)?;
            for a in &mut p.approvals {
                opt_named("", &mut a.note, f)?;
            }
        }
        for e in &mut self.executions {
            named("", &mut e.action, f)?;
            opt_named("", &mut e.reference, f)?;
        }
        for a in &mut self.actions {
            opt_named("", &mut a.note, f)?;
            if let Some(d) = &mut a.document {
                named("", &mut d.reference, f)?;
            }
        }
        for a in &mut self.points_adjustments {
            named("", &mut a.reason, f)?;
        }
        Ok(())
    }
}

impl<T: StaffText + Clone> StaffText for Arc<T> {
    fn try_map_staff_text<E>(&mut self, f: Named<'_, E>) -> Result<(), E> {
        Arc::make_mut(self).try_map_staff_text(f)
    }
}

/// Why a staff text cannot be redacted ([`redact`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unredactable {
    /// The history has no event of that version.
    #[error("the complaint has no event {0}")]
    NoEvent(u64),
    /// The event has no staff text of that name.
    #[error("event {version} ({kind}) has no staff text `{field}`; it has: {has}")]
    NoField {
        /// The event's version.
        version: u64,
        /// The event's kind.
        kind: &'static str,
        /// The name asked for.
        field: String,
        /// The names it has, comma-separated (none: `nothing`).
        has: String,
    },
    /// The field reads [`REDACTED`] already.
    #[error("`{field}` of event {version} is already redacted")]
    Already {
        /// The event's version.
        version: u64,
        /// The field.
        field: String,
    },
}

/// Overwrites staff text `field` of the event at `version` in `history` with [`REDACTED`].
///
/// # Errors
/// [`Unredactable`] when there is no such event or field, or it is redacted already;
/// `history` is then unchanged.
pub fn redact(history: &mut [Recorded], version: u64, field: &str) -> Result<(), Unredactable> {
    let event = history
        .iter_mut()
        .find(|r| r.version == version)
        .ok_or(Unredactable::NoEvent(version))?;
    let mut found = None;
    event.map_staff_text(&mut |name, value| {
        if name != field {
            return value.to_owned();
        }
        found = Some(value == REDACTED);
        REDACTED.to_owned()
    });
    match found {
        Some(false) => Ok(()),
        Some(true) => Err(Unredactable::Already {
            version,
            field: field.to_owned(),
        }),
        None => {
            let names: Vec<String> = event.staff_texts().into_iter().map(|(n, _)| n).collect();
            Err(Unredactable::NoField {
                version,
                kind: event.event.kind().name(),
                field: field.to_owned(),
                has: if names.is_empty() {
                    "nothing".into()
                } else {
                    names.join(", ")
                },
            })
        }
    }
}

/// Whether `value` holds any personal field with a value other than [`ERASED`].
pub fn holds_personal<T: PersonalData + Clone>(value: &T) -> bool {
    value.personal_values().iter().any(|v| v != ERASED)
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;

    /// Every staff text the events carry, each saying `MARK-n`, folded: the state's
    /// visitor reaches every copy of them (redacting them all in the history folds to the
    /// state with them all redacted, and no copy is left in either).
    #[test]
    fn the_state_s_staff_texts_are_the_history_s_and_all_of_them() {
        use crate::lifecycle::Next;
        use crate::model::Findings;
        let mut n = 0;
        let mut mark = || {
            n += 1;
            Text::from(format!("MARK-{n}"))
        };
        let remedy = crate::RemedyKey::new("refund").expect("key");
        let events = vec![
            Event::Received {
                intake: Arc::new(crate::testing::intake(crate::model::EARLIEST)),
                policy_version: 1,
            },
            Event::Explained { text: mark() },
            Event::FindingsRecorded {
                findings: Findings {
                    summary: mark(),
                    records: vec![mark(), mark()],
                },
                root_cause: None,
            },
            Event::RemedyProposed {
                remedy: remedy.clone(),
                description: mark(),
                amount: None,
                next: Next::Approval,
            },
            Event::ApprovalDeclined { reason: mark() },
            Event::RemedyProposed {
                remedy: remedy.clone(),
                description: mark(),
                amount: None,
                next: Next::Approval,
            },
            Event::ApprovalGranted {
                note: Some(mark()),
                next: Next::Execution,
            },
            Event::ExecutionRecorded {
                action: mark(),
                reference: Some(mark()),
                finished: true,
            },
            Event::FeedbackGiven { text: mark() },
            Event::ProgressReported { note: mark() },
            Event::ActionRecorded {
                action: crate::ActionKey::new("callback").expect("key"),
                label: "Callback".into(),
                note: Some(mark()),
                document: Some(DocumentRef {
                    reference: mark(),
                    content_hash: None,
                }),
            },
            Event::PointsAdjusted {
                points: 1,
                reason: mark(),
            },
            Event::Consulted { answer: mark() },
            Event::ConvertedToComplaint { reason: mark() },
            Event::ResolvedOnTheSpot {
                remedy,
                description: mark(),
            },
        ];
        let actor = crate::testing::agent();
        let cmd = crate::CommandId::new("c").expect("id");
        let history = Recorded::numbered(events, 0, crate::model::EARLIEST, &actor, &cmd);
        let id = crate::ComplaintId::new("C-1").expect("id");
        let state = Complaint::replay(id.clone(), &history).expect("folds");
        let json = |v: &dyn erased::Json| v.json();
        assert!(
            json(&state).contains("MARK-"),
            "the state copies staff text"
        );
        let redact_all = |_: &str, _: &str| REDACTED.to_owned();
        let mut redacted_history = history.clone();
        redacted_history.map_staff_text(&mut |_, v| redact_all(v, ""));
        assert!(
            !json(&redacted_history).contains("MARK-"),
            "{}",
            json(&redacted_history)
        );
        let mut redacted_state = state.clone();
        redacted_state.map_staff_text(&mut |_, v| redact_all(v, ""));
        assert!(
            !json(&redacted_state).contains("MARK-"),
            "{}",
            json(&redacted_state)
        );
        // Folding the redacted history gives the redacted state (a text the fold derives
        // from a redacted one, `refund: [redacted]`, is itself a staff text of the state).
        let mut folded = Complaint::replay(id, &redacted_history).expect("folds");
        folded.map_staff_text(&mut |_, v| redact_all(v, ""));
        assert_eq!(folded, redacted_state);
    }

    mod erased {
        pub(super) trait Json {
            fn json(&self) -> String;
        }
        impl<T: serde::Serialize> Json for T {
            fn json(&self) -> String {
                serde_json::to_string(self).expect("json")
            }
        }
    }

    #[test]
    fn erasing_an_intake_leaves_no_contact_and_keeps_ids() {
        let mut intake = crate::testing::intake(crate::model::EARLIEST);
        let before = intake.personal_values();
        assert!(before.iter().any(|v| v == &intake.complainant.name));
        let id = intake.complainant.id.clone();
        intake.erase_personal();
        assert_eq!(intake.complainant.name, ERASED);
        assert!(
            intake
                .complainant
                .contacts
                .iter()
                .all(|c| c.expose() == ERASED)
        );
        assert_eq!(intake.complainant.id, id);
        assert!(!holds_personal(&intake));
        assert_eq!(intake.personal_values().len(), before.len());
    }
}
