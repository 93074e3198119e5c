//! What a log frame carries: the records of one group commit, as a versioned payload
//! (`[encoding: u8 = 4][JSON array of records, personal fields and staff texts sealed]`; 3
//! with staff texts in clear and 1 with everything in clear, as older versions wrote it), or,
//! as the last frame of a segment (format 2), the number of the segment that follows
//! (`[encoding: u8 = 1][{"next": …}]`).

use crate::error::FileError;
use crate::seal::{ENCODING_SEALED, ENCODING_SEALED_ALL, Keys, Sealing};
use plaint_core::{
    Append, CommandId, ComplaintId, Notification, NotificationId, Recorded, Settlement, Timestamp,
};
use serde::{Deserialize, Serialize};

/// The payload encoding this build writes: 1 = a JSON array.
pub(crate) const ENCODING_JSON: u8 = 1;

/// One change to the store, as the log keeps it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub(crate) enum Record {
    /// [`plaint_core::Store::append`].
    Append {
        complaint: ComplaintId,
        expected_version: u64,
        command: CommandId,
        events: Vec<Recorded>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        outbox: Vec<Notification>,
        /// For an append that redacts a staff text: the complaint's history anew.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rewrite: Option<Rewrite>,
    },
    /// [`plaint_core::Store::settle`].
    Settle {
        id: NotificationId,
        outcome: Settlement,
    },
    /// [`plaint_core::Store::requeue`].
    Requeue { id: NotificationId, at: Timestamp },
}

/// A redaction's rewrite of its complaint: the whole history after the append (the
/// redacted text reading [`plaint_core::REDACTED`]), sealed under a new staff key. Once it
/// is durable the staff keys it replaces are shredded, so every older copy of the
/// complaint's staff texts stops opening, and replay takes the history from here.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Rewrite {
    /// The complaint's history, this append's events included.
    pub(crate) history: Vec<Recorded>,
    /// The staff key it is sealed with (from the append's first version on).
    pub(crate) key: u64,
    /// The staff keys it replaces.
    pub(crate) replaces: Vec<u64>,
}

impl Record {
    /// The record of an append (moving its parts), with a redaction's rewrite.
    pub(crate) fn append(a: Append, rewrite: Option<Rewrite>) -> Self {
        Self::Append {
            complaint: a.complaint,
            expected_version: a.expected_version,
            command: a.command,
            events: a.events,
            outbox: a.outbox,
            rewrite,
        }
    }

    /// The record as JSON, to go into a batch, its personal fields and staff texts sealed
    /// with `keys` (the record itself stays as it is, in clear, to be applied). A rewrite
    /// takes its new staff key here.
    ///
    /// # Errors
    /// [`FileError::Sealing`]: nothing can be sealed.
    pub(crate) fn seal_to_json(&mut self, keys: &Keys) -> Result<Vec<u8>, FileError> {
        let json = match self {
            Record::Append {
                complaint,
                expected_version,
                command,
                events,
                outbox,
                rewrite,
            } => {
                let at = expected_version.saturating_add(events.len() as u64);
                let rewrite = match rewrite {
                    Some(rw) => {
                        (rw.key, rw.replaces) =
                            keys.rotate(complaint, expected_version.saturating_add(1))?;
                        let mut history = rw.history.clone();
                        keys.seal(complaint, at, &mut history)?;
                        Some(Rewrite {
                            history,
                            key: rw.key,
                            replaces: rw.replaces.clone(),
                        })
                    }
                    None => None,
                };
                let (mut events, mut outbox) = (events.clone(), outbox.clone());
                keys.seal(complaint, at, &mut events)?;
                for n in &mut outbox {
                    keys.seal_personal(complaint, n.id.version, n)?;
                }
                serde_json::to_vec(&Record::Append {
                    complaint: complaint.clone(),
                    expected_version: *expected_version,
                    command: command.clone(),
                    events,
                    outbox,
                    rewrite,
                })
            }
            other => serde_json::to_vec(other),
        };
        Ok(json.expect("records serialise"))
    }

    /// Opens the sealed fields of a record read from a payload holding `sealing`.
    pub(crate) fn open(&mut self, keys: &Keys, sealing: Sealing) -> Result<(), String> {
        match self {
            Record::Append {
                complaint,
                expected_version,
                events,
                outbox,
                rewrite,
                ..
            } => {
                let from = expected_version.saturating_add(1);
                if let Some(rw) = rewrite {
                    // Its key seals from the append on: learnt before its values are opened.
                    keys.rotated(complaint, rw.key, from, &[]);
                    keys.open(complaint, from, sealing, &mut rw.history)?;
                }
                keys.open(complaint, from, sealing, events)?;
                keys.open_personal(complaint, sealing, outbox)
            }
            Record::Settle { .. } | Record::Requeue { .. } => Ok(()),
        }
    }

    /// The complaint whose personal data this record erases, if it does, and the version
    /// of the erasure.
    pub(crate) fn erases(&self) -> Option<(&ComplaintId, u64)> {
        match self {
            Record::Append {
                complaint, events, ..
            } => events
                .iter()
                .find(|r| matches!(r.event, plaint_core::Event::PersonalDataErased { .. }))
                .map(|r| (complaint, r.version)),
            _ => None,
        }
    }

    /// The complaint this record rewrites, its new staff key, the version it seals from and
    /// the keys it replaces: to shred once the record is durable.
    pub(crate) fn rewrites(&self) -> Option<(&ComplaintId, u64, u64, &[u64])> {
        match self {
            Record::Append {
                complaint,
                expected_version,
                rewrite: Some(rw),
                ..
            } => Some((
                complaint,
                rw.key,
                expected_version.saturating_add(1),
                &rw.replaces,
            )),
            _ => None,
        }
    }
}

/// What the last frame of a segment with a successor says (segment format 2): which segment
/// follows, and whether a checkpoint starts there. It is durable before anything is written to
/// that segment, so a segment that is missing, or cut short at a frame boundary, is told from
/// the end of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Next {
    /// The number of the segment that follows.
    pub(crate) segment: u64,
    /// When a checkpoint starts with that segment: the number of the run it writes (and, for a
    /// merge, the number after it). Opening finishes such a checkpoint if a crash stopped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) checkpoint: Option<u64>,
}

/// The JSON of a [`Next`] frame: `{"next": {"segment": …, "checkpoint": …}}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NextFrame {
    next: Next,
}

impl Next {
    /// The frame's payload.
    pub(crate) fn payload(self) -> Vec<u8> {
        json_payload(&NextFrame { next: self })
    }
}

/// A log frame, decoded.
#[derive(Debug)]
pub(crate) enum Frame {
    /// The records of one group commit.
    Records(Vec<Record>),
    /// The segment that follows (segment format 2 only).
    Next(Next),
}

/// Whether a frame of a segment of format `version` is meant as a [`Next`] frame: the records
/// of a group commit are a JSON array, a `Next` frame an object (a cheap test, before
/// decoding).
pub(crate) fn may_be_next(payload: &[u8], version: u32) -> bool {
    version >= 2 && payload.get(1) == Some(&b'{')
}

/// Decodes a frame of a segment of format `version`.
pub(crate) fn decode_frame(payload: &[u8], version: u32) -> Result<Frame, String> {
    if may_be_next(payload, version) {
        return decode::<NextFrame>(payload).map(|f| Frame::Next(f.next));
    }
    decode(payload).map(Frame::Records)
}

/// Builds a batch payload from records already in JSON.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    payload: Vec<u8>,
}

impl Batch {
    pub(crate) fn push(&mut self, record_json: &[u8]) {
        self.payload.extend_from_slice(if self.payload.is_empty() {
            &[ENCODING_SEALED_ALL, b'[']
        } else {
            b","
        });
        self.payload.extend_from_slice(record_json);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }

    /// Its bytes so far.
    pub(crate) fn len(&self) -> usize {
        self.payload.len()
    }

    /// The payload, emptying the batch.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        let mut p = std::mem::take(&mut self.payload);
        p.push(b']');
        p
    }
}

/// A JSON payload carrying `value` (`[encoding 1][JSON]`).
pub(crate) fn json_payload(value: &impl Serialize) -> Vec<u8> {
    let mut out = vec![ENCODING_JSON];
    serde_json::to_writer(&mut out, value).expect("stored values serialise");
    out
}

/// A payload carrying `value` with sealed fields (`[encoding 4][JSON]`).
pub(crate) fn sealed_payload(value: &impl Serialize) -> Vec<u8> {
    let mut out = vec![ENCODING_SEALED_ALL];
    serde_json::to_writer(&mut out, value).expect("stored values serialise");
    out
}

/// Decodes a JSON payload: one written by [`json_payload`], [`sealed_payload`] (its sealed
/// fields still sealed: see [`Sealing::of`]) or [`Batch`] (as a `Vec`).
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(payload: &[u8]) -> Result<T, String> {
    match payload.split_first() {
        Some((&(ENCODING_JSON | ENCODING_SEALED | ENCODING_SEALED_ALL), json)) => {
            serde_json::from_slice(json).map_err(|e| e.to_string())
        }
        Some((other, _)) => Err(format!("unknown payload encoding {other}")),
        None => Err("empty payload".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_frames_read_back_and_only_in_format_2() {
        let next = Next {
            segment: 7,
            checkpoint: Some(3),
        };
        let payload = next.payload();
        assert_eq!(
            &payload[1..],
            br#"{"next":{"segment":7,"checkpoint":3}}"#.as_slice()
        );
        assert!(matches!(decode_frame(&payload, 2), Ok(Frame::Next(n)) if n == next));
        assert!(decode_frame(&payload, 1).is_err());
        let plain = Next {
            segment: 8,
            checkpoint: None,
        }
        .payload();
        assert_eq!(&plain[1..], br#"{"next":{"segment":8}}"#.as_slice());
        let unknown = [&[ENCODING_JSON][..], br#"{"next":{"segment":8,"what":1}}"#].concat();
        assert!(decode_frame(&unknown, 2).is_err());
        let empty = [&[ENCODING_JSON][..], b"[]"].concat();
        assert!(matches!(decode_frame(&empty, 2), Ok(Frame::Records(r)) if r.is_empty()));
        assert!(matches!(decode_frame(&empty, 1), Ok(Frame::Records(r)) if r.is_empty()));
    }
}
