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

use crate::complainant::{Complainant, Contact};
use crate::complaint::Complaint;
use crate::lifecycle::{Event, Recorded};
use crate::model::{DocumentRef, Evidence, Intake, Satisfaction, Text};
use crate::notify::Notification;
use std::convert::Infallible;
use std::sync::Arc;

/// What an erased personal field reads: timelines and views show it in its place.
pub const ERASED: &str = "[erased]";

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

/// Whether `value` holds any personal field with a value other than [`ERASED`].
pub fn holds_personal<T: PersonalData + Clone>(value: &T) -> bool {
    value.personal_values().iter().any(|v| v != ERASED)
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;

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
