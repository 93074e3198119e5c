//! The engine's personal-data operations: erase a complainant, export what is held about
//! them (PIPL arts. 44–47, GDPR arts. 15, 17, 20).

use crate::actor::Actor;
use crate::clock::Clock;
use crate::complaint::Complaint;
use crate::engine::{Engine, EngineError};
use crate::id::{ActorId, CommandId, ComplaintId};
use crate::lifecycle::{Command, Recorded, Stage};
use crate::model::{Text, Timestamp};
use crate::notify::Notifier;
use crate::store::{ListQuery, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What [`Engine::erase_complainant`] did; serializes as
/// `{"erased": ["C-1"], "already": ["C-2"]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Erasure {
    /// The complaints whose personal data it erased now.
    pub erased: Vec<ComplaintId>,
    /// The complaints of the complainant already erased before.
    pub already: Vec<ComplaintId>,
}

/// What [`Engine::enforce_retention`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Retention {
    /// The complaints whose personal data it erased, their retention having run out.
    pub erased: Vec<ComplaintId>,
    /// Complaints it could not erase, and why; they are tried again next time.
    pub failed: Vec<(ComplaintId, EngineError)>,
}

/// Everything a store holds about one complainant: one JSON document (serialize it with
/// serde_json), the copy PIPL art. 45 and GDPR art. 20 give them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Export {
    /// The complainant's actor id.
    pub complainant: ActorId,
    /// When it was made (the engine's clock).
    pub exported_at: Timestamp,
    /// Each of their complaints, in id order.
    pub complaints: Vec<ExportedComplaint>,
}

/// One complaint of an [`Export`]: its state and its whole history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExportedComplaint {
    /// The complaint as it stands.
    pub state: Complaint,
    /// Every event recorded for it, in order.
    pub history: Vec<Recorded>,
}

/// When `c` finished, for retention, and how (as a retention reason words it): closed,
/// withdrawn or merged at `closed_at`; still a consultation, when it was answered (a
/// converted one is a complaint and has not finished until it closes). `None` while it is
/// being handled.
fn finished(c: &Complaint) -> Option<(Timestamp, &'static str)> {
    if let Some(closed) = c.closed_at {
        return Some((closed, "closing"));
    }
    match (&c.stage, &c.consultation) {
        (Stage::Consultation, Some(q)) if q.converted.is_none() => Some((q.answer.at, "answering")),
        _ => None,
    }
}

/// Every complaint of `complainant` (by `intake.complainant.id`) in `store`, in id order.
async fn complaints_of<S: Store + ?Sized>(
    store: &S,
    complainant: &ActorId,
) -> Result<Vec<Arc<Complaint>>, StoreError> {
    let mut out = Vec::new();
    let mut query = ListQuery::new()
        .complainant(complainant.clone())
        .limit(ListQuery::MAX_LIMIT);
    loop {
        let page = store.list(&query).await?;
        out.extend(page.items);
        match page.next {
            Some(next) => query = query.after(next),
            None => return Ok(out),
        }
    }
}

impl Export {
    /// Everything `store` holds about `complainant`, made at `at`: the document
    /// [`Engine::export_complainant`] gives once it has checked who asks, for a tool that
    /// reads a store with the operator's own rights (the `plaint` command line).
    ///
    /// # Errors
    /// A store error.
    pub async fn of<S: Store + ?Sized>(
        store: &S,
        complainant: &ActorId,
        at: Timestamp,
    ) -> Result<Self, StoreError> {
        let mut complaints = Vec::new();
        for c in complaints_of(store, complainant).await? {
            let history = store.history(&c.id).await?;
            complaints.push(ExportedComplaint {
                state: Arc::unwrap_or_clone(c),
                history,
            });
        }
        Ok(Self {
            complainant: complainant.clone(),
            exported_at: at,
            complaints,
        })
    }

    /// Complaint `id`'s whole record, as an export of its complainant holding only it;
    /// `None` when `store` has no such complaint.
    ///
    /// # Errors
    /// A store error.
    pub async fn of_complaint<S: Store + ?Sized>(
        store: &S,
        id: &ComplaintId,
        at: Timestamp,
    ) -> Result<Option<Self>, StoreError> {
        let Some(state) = store.load(id).await? else {
            return Ok(None);
        };
        let history = store.history(id).await?;
        Ok(Some(Self {
            complainant: state.intake.complainant.id.clone(),
            exported_at: at,
            complaints: vec![ExportedComplaint {
                state: Arc::unwrap_or_clone(state),
                history,
            }],
        }))
    }
}

impl<S: Store, N: Notifier, C: Clock> Engine<S, N, C> {
    /// Erases the personal data of complainant `complainant` in every complaint of theirs
    /// ([`Command::ErasePersonalData`] on each, as `actor`, with `reason`): their name,
    /// contacts, own words and evidence references read [`crate::privacy::ERASED`] in states,
    /// histories and timelines from then on, and stores that protect personal fields shred
    /// the keys of those complaints, so no copy written before (a log segment, a snapshot, a
    /// backup) can be read for them again. Ids, categories, amounts, instants and clocks
    /// stay, so reports give the same figures; each erasure is an event of the audit trail
    /// (who, when, why — not what). Complaints already erased are left as they are.
    ///
    /// `actor` and `reason` are checked before anything is looked up, so a complainant with
    /// no complaints (nothing to erase: both lists empty) is answered as one with many.
    ///
    /// # Errors
    /// [`EngineError::Rejected`] with `Forbidden` when `actor` may not erase (only roles whose
    /// `may` lists `erase_personal_data`: none of the actor's roles under the current policy,
    /// or, under a complaint's own policy version, none that reaches it); complaints erased
    /// before the error stay erased. `Invalid` (field `reason`) when `reason` is blank.
    /// A store error.
    pub async fn erase_complainant(
        &self,
        complainant: &ActorId,
        actor: &Actor,
        reason: &str,
    ) -> Result<Erasure, EngineError> {
        self.may_erase(actor)?;
        if reason.trim().is_empty() {
            return Err(EngineError::Rejected(crate::Rejection::Invalid {
                field: "reason",
                reason: "must not be empty".to_owned(),
            }));
        }
        let mut done = Erasure::default();
        for c in complaints_of(self.store(), complainant).await? {
            if c.erased_at.is_some() {
                done.already.push(c.id.clone());
                continue;
            }
            self.erase_one(&c, actor, reason).await?;
            done.erased.push(c.id.clone());
        }
        Ok(done)
    }

    /// Erases complaint `c`'s personal data, under a command id derived from it (a retry
    /// after a crash is answered as the same request).
    pub(crate) async fn erase_one(
        &self,
        c: &Complaint,
        actor: &Actor,
        reason: &str,
    ) -> Result<(), EngineError> {
        let command_id = CommandId::new(format!("erase:{}:{}", c.id, c.version))
            .or_else(|_| CommandId::new(format!("erase:{}", c.version)))
            .map_err(|e| crate::StoreError::Malformed(e.to_string()))?;
        let reason: Text = reason.into();
        self.execute(
            command_id,
            &c.id,
            Command::ErasePersonalData { reason },
            actor,
        )
        .await?;
        Ok(())
    }

    /// Erases the personal data of every finished complaint whose policy's
    /// `[privacy] keep_personal_data_after_close` has passed since it finished (at the
    /// engine's clock), as `actor` (a role with `erase_personal_data`), and says which.
    /// A complaint finishes when it is closed, withdrawn or merged (`closed_at`); a contact
    /// that stayed a consultation, when it was answered (the `Consulted` event's instant,
    /// `consultation.answer.at`: nothing is recorded of it after that). A consultation
    /// converted into a complaint is a complaint from then on and finishes when that
    /// complaint does. A complaint under a policy without the setting, or still being
    /// handled, keeps its data.
    /// Maintenance: run it daily (it reads every complaint's summary).
    ///
    /// # Errors
    /// A store error while listing. A complaint that cannot be erased (the actor may not, its
    /// policy version is not loaded) is reported in [`Retention::failed`] and passed over.
    pub async fn enforce_retention(&self, actor: &Actor) -> Result<Retention, EngineError> {
        let now = self.clock().now();
        let mut done = Retention::default();
        let mut query = ListQuery::new().limit(ListQuery::MAX_LIMIT);
        loop {
            let page = self.list(&query).await?;
            for c in &page.items {
                let (Some((finished, how)), None) = (finished(c), c.erased_at) else {
                    continue;
                };
                let keep = match self.policy(c) {
                    Ok(p) => p.privacy.keep_personal_data_after_close,
                    Err(e) => {
                        done.failed.push((c.id.clone(), e));
                        continue;
                    }
                };
                let Some(keep) = keep else {
                    continue;
                };
                let until = finished
                    .checked_add_signed(chrono::Duration::seconds(keep.seconds()))
                    .unwrap_or(crate::model::LATEST);
                if until > now {
                    continue;
                }
                let reason = format!("retention: personal data kept {keep} after {how}");
                match self.erase_one(c, actor, &reason).await {
                    Ok(()) => done.erased.push(c.id.clone()),
                    Err(EngineError::Store(e)) => return Err(e.into()),
                    Err(e) => done.failed.push((c.id.clone(), e)),
                }
            }
            match page.next {
                Some(next) => query = query.after(next),
                None => return Ok(done),
            }
        }
    }

    /// Everything held about complainant `complainant`, for `actor`: staff whose role may
    /// erase (`erase_personal_data`), who answer access and portability requests, or the
    /// complainant themselves.
    ///
    /// # Errors
    /// [`EngineError::Rejected`] with `Forbidden` for anyone else; a store error.
    pub async fn export_complainant(
        &self,
        complainant: &ActorId,
        actor: &Actor,
    ) -> Result<Export, EngineError> {
        let themselves =
            matches!(actor.kind, crate::ActorKind::Complainant) && &actor.id == complainant;
        if !themselves {
            self.may_erase(actor)?;
        }
        Ok(Export::of(self.store(), complainant, self.clock().now()).await?)
    }

    /// Whether `actor` holds a role that may erase personal data under the current policy
    /// (its `may` lists `erase_personal_data`).
    ///
    /// # Errors
    /// [`EngineError::Rejected`] with `Forbidden` for anyone else: `not_for_complainants` for
    /// a complainant, `no_role` for staff and the system.
    fn may_erase(&self, actor: &Actor) -> Result<(), EngineError> {
        let reason = match &actor.kind {
            crate::ActorKind::Staff { roles, .. } => {
                let policy = self.current_policy();
                if roles
                    .iter()
                    .filter_map(|r| policy.role(r))
                    .any(|d| d.may.contains(&crate::CommandKind::ErasePersonalData))
                {
                    return Ok(());
                }
                crate::ForbiddenReason::NoRole
            }
            crate::ActorKind::Complainant => crate::ForbiddenReason::NotForComplainants,
            crate::ActorKind::System => crate::ForbiddenReason::NoRole,
        };
        Err(EngineError::Rejected(crate::Rejection::Forbidden {
            actor: actor.id.clone(),
            command: crate::CommandKind::ErasePersonalData,
            reason,
        }))
    }
}
