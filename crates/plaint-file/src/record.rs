//! What a log frame carries: the records of one group commit, as a versioned payload
//! (`[encoding: u8 = 1][JSON array of records]`).

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
    },
    /// [`plaint_core::Store::settle`].
    Settle {
        id: NotificationId,
        outcome: Settlement,
    },
    /// [`plaint_core::Store::requeue`].
    Requeue { id: NotificationId, at: Timestamp },
}

impl Record {
    /// The record of an append (moving its parts).
    pub(crate) fn append(a: Append) -> Self {
        Self::Append {
            complaint: a.complaint,
            expected_version: a.expected_version,
            command: a.command,
            events: a.events,
            outbox: a.outbox,
        }
    }

    /// The record as JSON, to go into a batch.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("records serialise")
    }
}

/// Builds a batch payload from records already in JSON.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    payload: Vec<u8>,
}

impl Batch {
    pub(crate) fn push(&mut self, record_json: &[u8]) {
        self.payload.extend_from_slice(if self.payload.is_empty() {
            &[ENCODING_JSON, b'[']
        } else {
            b","
        });
        self.payload.extend_from_slice(record_json);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.payload.is_empty()
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

/// Decodes a JSON payload: one written by [`json_payload`], or by [`Batch`] (as a `Vec`).
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(payload: &[u8]) -> Result<T, String> {
    match payload.split_first() {
        Some((&ENCODING_JSON, json)) => serde_json::from_slice(json).map_err(|e| e.to_string()),
        Some((other, _)) => Err(format!("unknown payload encoding {other}")),
        None => Err("empty payload".into()),
    }
}
