//! Erasure and redaction in PostgreSQL: an append that erases a complaint's personal data
//! overwrites it in the complaint's event rows and undelivered notifications, and one that
//! redacts a staff text overwrites it in its event row and stores the state the redacted
//! history folds to, all in the append's transaction.
//!
//! This is erasure in place, not crypto-shredding: PostgreSQL keeps the old row versions
//! until `VACUUM` reclaims them, and its WAL archive and base backups keep them as long as
//! they are kept. A deployment that must not keep them runs `VACUUM` on `plaint_events` and
//! `plaint_outbox` after erasures and keeps archives and backups no longer than erasure
//! requests allow.

use plaint_core::{Append, Complaint, PersonalData, Recorded, StoreError};
use tokio_postgres::Transaction;
use tokio_postgres::types::Json;

/// Redacts the staff texts `append` names in complaint `id`'s stored events, in place, and
/// returns the state the redacted history (with the append's events) folds to; `None` when
/// the append redacts nothing.
pub(crate) async fn redact(
    tx: &Transaction<'_>,
    id: &str,
    append: &Append,
    fail: &impl Fn(tokio_postgres::Error) -> StoreError,
) -> Result<Option<Complaint>, StoreError> {
    if !append.redacts() {
        return Ok(None);
    }
    rewrite_events(tx, id, &append.events, |h| append.redact(h), fail).await
}

/// Overwrites every personal field of complaint `id`'s stored events and undelivered
/// notifications with [`plaint_core::ERASED`].
pub(crate) async fn erase(
    tx: &Transaction<'_>,
    id: &str,
    fail: &impl Fn(tokio_postgres::Error) -> StoreError,
) -> Result<(), StoreError> {
    rewrite_events(
        tx,
        id,
        &[],
        |h| {
            h.erase_personal();
            Ok(())
        },
        fail,
    )
    .await?;
    erase_outbox(tx, id).await.map_err(fail)
}

/// Reads complaint `id`'s stored events under their row locks, hands them to `change` with
/// `after` (the append's events, not stored yet) added, and writes back the stored rows it
/// changed; returns what `change` returns.
async fn rewrite_events<T>(
    tx: &Transaction<'_>,
    id: &str,
    after: &[Recorded],
    change: impl FnOnce(&mut Vec<Recorded>) -> Result<T, StoreError>,
    fail: &impl Fn(tokio_postgres::Error) -> StoreError,
) -> Result<T, StoreError> {
    let rows = tx
        .query(
            "SELECT recorded FROM plaint_events WHERE complaint = $1 ORDER BY version FOR UPDATE",
            &[&id],
        )
        .await
        .map_err(fail)?;
    let stored = rows
        .iter()
        .map(|row| row.try_get::<_, Json<Recorded>>(0).map(|j| j.0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let mut history = stored.clone();
    history.extend(after.iter().cloned());
    let out = change(&mut history)?;
    let update = tx
        .prepare("UPDATE plaint_events SET recorded = $3 WHERE complaint = $1 AND version = $2")
        .await
        .map_err(fail)?;
    for (old, new) in stored.iter().zip(&history) {
        if old != new {
            let version = crate::version_i64(new.version)?;
            tx.execute(&update, &[&id, &version, &Json(new)])
                .await
                .map_err(fail)?;
        }
    }
    Ok(out)
}

/// Overwrites the personal fields of complaint `id`'s undelivered notifications.
async fn erase_outbox(tx: &Transaction<'_>, id: &str) -> Result<(), tokio_postgres::Error> {
    let rows = tx
        .query(
            "SELECT id, notification FROM plaint_outbox
             WHERE notification->>'complaint' = $1 FOR UPDATE",
            &[&id],
        )
        .await?;
    let update = tx
        .prepare("UPDATE plaint_outbox SET notification = $2 WHERE id = $1")
        .await?;
    for row in rows {
        let key: String = row.try_get(0)?;
        let Json(mut n): Json<plaint_core::Notification> = row.try_get(1)?;
        if n.erase_personal() {
            tx.execute(&update, &[&key, &Json(&n)]).await?;
        }
    }
    Ok(())
}
