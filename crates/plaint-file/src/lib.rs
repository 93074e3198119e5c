//! plaint-file: `FileStore`, plaint's durable, crash-safe store in a directory on local disk.
//!
//! ```
//! use plaint_core::{Engine, ListQuery, Store};
//! use plaint_file::{FileStore, Options};
//!
//! let dir = tempfile::tempdir()?;
//! let store = FileStore::open(dir.path(), Options::new())?.store;
//! let engine = Engine::builder(store, plaint_core::testing::policy()).build();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Guarantees
//!
//! - An append, settle or requeue returns only once its record is durable
//!   ([`Durability::Full`], the default: `fdatasync`). Appends that arrive while a sync runs
//!   share the next one (group commit), so many writers cost few syncs.
//! - Reads see only what is durable: records are applied to the in-memory state after their
//!   sync, so a notification is never relayed, nor a command decided, on a write a crash could
//!   still take back.
//! - One `FileStore` per directory: a second open, in this process or another, fails with
//!   [`FileError::Locked`].
//! - After any write or sync failure the handle refuses writes ([`FileError::Poisoned`]) until
//!   it is reopened: after a failed `fsync` the kernel may have dropped the data, and only
//!   reading the files again tells what is durable.
//! - Damage is reported, never skipped: see [Opening](#opening).
//!
//! # Format
//!
//! A store is a directory:
//!
//! | file | what |
//! |------|------|
//! | `LOCK` | held with an exclusive advisory lock while open |
//! | `segment-NNNNNNNNNNNNNNNNNNNN.log` | the log, in numbered segments (20 decimal digits) |
//! | `snapshot-NNNNNNNNNNNNNNNNNNNN.snap` | everything before segment `N` |
//! | `*.tmp` | a snapshot being written; removed on open |
//!
//! Every segment and snapshot starts with a 16-byte header: 8 bytes of magic (`PLAINTLG` for a
//! segment, `PLAINTSN` for a snapshot), the format version as `u32` little-endian (now `1`) and
//! 4 zero bytes. Then frames follow, back to back:
//!
//! ```text
//! [len: u32 LE][crc: u32 LE = CRC-32C of payload][payload: len bytes]
//! ```
//!
//! `len` is 1 to 256 MiB. A payload is `[encoding: u8][body]`; encoding `1` is a JSON array.
//!
//! - In a segment, one frame is one group commit: an array of records, each an object tagged
//!   `"record"`: `append` (complaint, expected_version, command, events, outbox), `settle`
//!   (id, outcome) or `requeue` (id, at). A frame is written with one `write` and is the unit
//!   of atomicity: a commit is in the log whole or not at all.
//! - In a snapshot, frames carry arrays of items: `{"Complaint": {state, history}}`,
//!   `{"Outbox": entry}`, `{"Dead": entry}`; the last item of the last frame is
//!   `{"End": {complaints, outbox, dead}}` with the counts, so a snapshot cut short is
//!   detected even where it ends on a frame boundary.
//!
//! A new segment starts when the current one passes [`Options::segment_size`]. A checkpoint
//! ([`FileStore::checkpoint`], or automatically per [`Options::checkpoint_after`]) starts a
//! new segment `N`, writes `snapshot-N.snap.tmp`, syncs it, renames it to `snapshot-N.snap`,
//! then removes older segments and snapshots. Every create, rename and removal is followed by
//! a sync of the directory.
//!
//! # Opening
//!
//! 1. Lock the directory; remove `*.tmp`.
//! 2. Load the newest snapshot `N` if there is one. Any damage in it is
//!    [`FileError::Corrupt`]: a snapshot is renamed into place only once whole and durable.
//! 3. Replay segments `N, N+1, …` (from 1 without a snapshot) into memory; a gap in the
//!    numbering is [`FileError::Corrupt`] naming the missing segment.
//! 4. In the newest segment, a last frame that is cut short or fails its checksum, with no
//!    valid frame after it, is a torn tail: the write the crash interrupted, never
//!    acknowledged. It is truncated (durably) and described in [`OpenReport::torn_tail`].
//!    Any other invalid frame — in an older segment, or with valid frames after it — is
//!    [`FileError::Corrupt`] with the file and the byte offset: data that was acknowledged is
//!    damaged, and the store will not guess.
//! 5. Remove leftovers of an interrupted checkpoint (older snapshots and segments).
//!
//! Reads are served from memory (a [`plaint_memory::MemoryStore`] rebuilt on open), so
//! opening takes time and memory in proportion to everything stored; see the README's
//! performance section for measured figures.

mod btree;
mod codec;
mod cold;
mod error;
mod frame;
pub mod fs;
mod record;
mod run;
#[cfg(feature = "testing")]
mod sim;
mod snapshot;
mod store;

pub use error::FileError;
#[cfg(feature = "testing")]
pub use sim::{SimFs, Tear};
pub use store::{Durability, FileStore, OpenReport, Opened, Options, Stats, TornTail};
