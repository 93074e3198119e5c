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
//! - Writing never blocks the caller's thread: the store's writer thread builds each group
//!   commit from the records handed to it, in the order they came, writes it, syncs it,
//!   applies it and answers each caller through a oneshot channel, which the caller's
//!   future awaits (on any executor: tokio, or `plaint_core::blocking`'s). A future
//!   dropped once polled has handed its record over: the record is written whole all the
//!   same (its caller just does not learn so); one never polled wrote nothing.
//! - No append waits for a checkpoint to be written: the writer thread starts it between
//!   two group commits (a new segment, a frozen view of memory), and the store's checkpoint
//!   thread writes it while appends go on. [`FileStore::checkpoint`] checkpoints now and
//!   returns when it is written, for callers who want that.
//! - [`FileStore::close`] writes what was handed over, waits for a checkpoint under way,
//!   ends both threads, frees the directory and reports a failure the store met (a
//!   checkpoint's included). Dropping the store does the same, reporting nothing.
//! - Reads see only what is durable: records are applied to the in-memory state after their
//!   sync, so a notification is never relayed, nor a command decided, on a write a crash could
//!   still take back. An append that conflicts with one still being synced (same complaint,
//!   or same command id) waits for it before it reports the conflict or the duplicate, so
//!   that what it reports can be read back.
//! - One `FileStore` per directory: a second open, in this process or another, fails with
//!   [`FileError::Locked`].
//! - After any write or sync failure the handle refuses writes ([`FileError::Poisoned`]) until
//!   it is reopened: after a failed `fsync` the kernel may have dropped the data, and only
//!   reading the files again tells what is durable.
//! - Damage is reported, never skipped: see [Opening](#opening). That includes a missing log
//!   segment: each one is named, durably and before anything is written to it, by the
//!   snapshot or the segment before it. What no store can see is in [What opening cannot
//!   tell](#what-opening-cannot-tell).
//! - Personal data is sealed: see [Personal data](#personal-data).
//! - Checkpoints get done even when the process dies during every one: a checkpoint a crash
//!   stopped is finished by the next open, from where it stopped, so the log an open replays
//!   stays bounded as long as each process lives through writing one file of a checkpoint.
//!
//! # Format
//!
//! A store is a directory:
//!
//! | file | what |
//! |------|------|
//! | `LOCK` | held with an exclusive advisory lock while open |
//! | `segment-NNNNNNNNNNNNNNNNNNNN.log` | the log, in numbered segments (20 decimal digits) |
//! | `snapshot-NNNNNNNNNNNNNNNNNNNN.snap` | what memory held before segment `N`, and the live runs; segment `N` must exist |
//! | `run-NNNNNNNNNNNNNNNNNNNN.tbl` | complaints moved out of memory, with their command ids |
//! | `keys` | the key table personal fields are sealed with (see [Personal data](#personal-data)) |
//! | `*.tmp` | a snapshot, run or key table being written; removed on open |
//!
//! Every segment, snapshot and run starts with a 16-byte header: 8 bytes of magic (`PLAINTLG`
//! for a segment, `PLAINTSN` for a snapshot, `PLAINTRN` for a run), the format version as
//! `u32` little-endian and 4 zero bytes. This version writes segments of format `3` and reads
//! `1` to `3` (format `1` is plaint-file 0.1.0's: the same, without the frame naming the next
//! segment; format `3` seals personal fields); snapshots and runs are at format `2` (sealed)
//! and `1` is read. A newer version is refused
//! ([`FileError::UnsupportedFormat`]), never guessed at. Then frames follow, back to back:
//!
//! ```text
//! [len: u32 LE][crc: u32 LE = CRC-32C of payload][payload: len bytes]
//! ```
//!
//! `len` is 1 to 256 MiB. A payload is `[encoding: u8][body]`; encoding `1` is JSON, encoding
//! `2` binary fields (little-endian integers, strings after a `u16` length), encoding `3` JSON
//! whose personal fields are sealed (what this version writes for records, snapshot items,
//! states and histories).
//!
//! - In a segment, one frame is one group commit: a JSON array of records, each an object
//!   tagged `"record"`: `append` (complaint, expected_version, command, events, outbox),
//!   `settle` (id, outcome) or `requeue` (id, at). A frame is written with one `write` and is
//!   the unit of atomicity: a commit is in the log whole or not at all.
//! - A segment `N` that has a successor ends with a frame naming it (format 2):
//!   `{"next": {"segment": N+1}}`, with `"checkpoint": R` added when a checkpoint starts with
//!   segment `N+1` and writes runs `R` (and `R+1`, if it merges).
//! - In a snapshot, frames carry JSON arrays of items: `{"Complaint": {state, history}}` for
//!   each complaint that stays in memory, `{"Outbox": entry}`, `{"Dead": entry}`; the last
//!   item of the last frame is `{"End": {complaints, outbox, dead, runs, feed}}` with the
//!   counts, so a snapshot cut short is detected even where it ends on a frame boundary, the
//!   numbers of the live runs, oldest first, and `feed`, the feed position of the last event
//!   before segment `N` (absent in snapshots written before the feed; opening then counts the
//!   events the snapshot and its runs hold).
//!
//! The feed ([`plaint_core::Store::feed`]) needs no field of its own in the log: records are
//! applied in log order, which is commit order, so replaying segments `N, N+1, …` numbers
//! their events after the snapshot's `feed` exactly as they were numbered when written. A
//! checkpoint keeps every complaint's history but not the order across complaints of the
//! events before it, so a reopened store serves the feed after the position its snapshot
//! records ([`FileStore::feed_start`]); the handle that wrote them serves them all.
//! - A run is immutable: for each complaint in id order its state and its history (a JSON
//!   frame each), then two static B-trees of binary nodes — complaint id → version, stage,
//!   tier, primary department and where the two frames are; command id → complaint and
//!   version — a Bloom filter over both trees' keys, a footer frame locating the roots and the
//!   filter, and a 24-byte trailer locating the footer (ending in `PLAINTRE`).
//!
//! A new segment starts when the current one passes [`Options::segment_size`]: segment `N+1`
//! is created (durably, header only), then segment `N` gets the frame naming `N+1`, synced
//! before anything is written to `N+1`. So from the moment `N+1` may hold an acknowledged
//! write, its loss is detectable. A checkpoint
//! ([`FileStore::checkpoint`], or automatically per [`Options::checkpoint_after`]) starts a
//! new segment `N` and takes a frozen view of memory — the state before segment `N` — on
//! the writer thread, between two group commits; then, on the checkpoint thread (or the
//! caller's, for [`FileStore::checkpoint`]) while appends go on into segment `N`, it writes
//! the complaints of that
//! view that no clock runs for into a new run (and, past four runs, merges the newest runs of
//! alike size into one, so there are at most four), writes `snapshot-N.snap` with the rest
//! and the list of live runs, lets go from memory of the complaints it moved that have not
//! changed since, and removes older segments, snapshots and runs nothing lists. Segment `N`
//! is created before `snapshot-N.snap`, which therefore names it. Runs and
//! snapshots are written as `*.tmp`, synced, and renamed into place; every create, rename and
//! removal is followed by a sync of the directory.
//!
//! Reads look in memory first (complaints with a running clock and those changed since the
//! last checkpoint; the due-timer index and the outbox are always there), then in the runs
//! from newest to oldest; a lookup there checks the run's Bloom filter (read on its first use)
//! and reads a few 4 KiB nodes. Listings merge memory and runs in id order.
//!
//! # Opening
//!
//! 1. Lock the directory; remove `*.tmp`.
//! 2. Load the newest snapshot `N` if there is one, and open the runs it lists: their
//!    headers, footers and trailers are checked, nothing else is read. Any damage in the
//!    snapshot, a missing run or a run cut short is [`FileError::Corrupt`]: they are renamed
//!    into place only once whole and durable. Damage inside a run is found when the damaged
//!    part is read, and that read fails with [`FileError::Corrupt`] naming the run and offset.
//! 3. Check that the segments that must exist do: segment `N` (the snapshot names it), every
//!    number after it up to the newest segment, and the segment each one names as its next.
//!    A missing one is [`FileError::Corrupt`] naming it. One exception: a rotation a crash
//!    stopped between creating segment `M+1` and naming it in `M` leaves an `M+1` that holds
//!    no frame and that `M` does not name; nothing was ever written to it, so it is removed
//!    (and reported in [`OpenReport::torn_tail`]).
//! 4. Replay segments `N, N+1, …` (from 1 without a snapshot) into memory. In the newest
//!    segment, a last frame that is cut short or fails its checksum, with no valid frame
//!    after it, is a torn tail: the write the crash interrupted, never acknowledged. It is
//!    truncated (durably) and described in [`OpenReport::torn_tail`]. Any other invalid frame
//!    — in an older segment, or with valid frames after it — is [`FileError::Corrupt`] with
//!    the file and the byte offset: data that was acknowledged is damaged, and the store will
//!    not guess. So is a segment of format 2 before the newest that does not end by naming
//!    the next one: it was cut short, even if exactly at a frame boundary.
//! 5. Finish a checkpoint a crash stopped: when a segment's last frame says a checkpoint
//!    starts with the next segment `M` and there is no `snapshot-M.snap`, memory, once that
//!    segment is replayed, is exactly the state the checkpoint was writing. Opening writes
//!    what is missing of it — the run and the merged run unless they are there already (a run
//!    gets its name only once whole and durable; their numbers are used once), then the
//!    snapshot — lets go of the complaints it moved, and replays on from `M`
//!    ([`OpenReport::resumed`]). No file it wrote is written again, so a process killed
//!    during every checkpoint still gets one done, provided it lives through writing one
//!    file.
//! 6. Remove leftovers of an interrupted checkpoint (older snapshots and segments, runs the
//!    snapshot does not list).
//! 7. A store without a snapshot (a new one, or one 0.1.0 wrote and never checkpointed) gets
//!    an empty `snapshot-1.snap`, which names segment 1: a store that lost segment 1 is not
//!    taken for a new one.
//! 8. Checkpoint ([`OpenReport::checkpoint`]) if the log replayed since the last snapshot has
//!    reached [`Options::checkpoint_after`], rather than leave it to the first append (a
//!    process killed during every checkpoint then makes progress whether it appends or not),
//!    or if the newest segment is of an older format: format 1 cannot name a next segment
//!    (the checkpoint's snapshot names the segment it starts, and every segment after that is
//!    named by the one before), and formats before 4 hold staff texts in clear (the
//!    checkpoint seals them anew).
//!
//! # Personal data and staff texts
//!
//! Every personal field ([`plaint_core::privacy`]: the complainant's name and contacts, their
//! own words, their evidence references, notification texts) and every staff-written text
//! ([`plaint_core::StaffText`]: explanations, findings, proposals, notes, reasons, answers) of
//! every record, snapshot item, state and history this version writes is sealed:
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`) under a 256-bit key of its
//! complaint, a random 24-byte nonce per value, the complaint id as associated data, written
//! as the base64 of `[key number: u64 LE][nonce][ciphertext and tag]`. A complaint has
//! personal keys (for its personal fields) and staff keys (for its staff texts, each from a
//! version on). Keys and nonces come from the operating system's generator (`getrandom`;
//! its failure is [`FileError::Sealing`], and nothing is written), never from the
//! deterministic core. The keys live in `keys`, not in the log, snapshots or runs: `[header
//! PLAINTKY, version 2]` and frames of binary fields (encoding `3`: each key's number and its
//! 32 bytes, or a mark that it is shredded; each complaint's personal key numbers; each
//! complaint's staff keys with the version each seals from), later frames updating earlier
//! ones; a table of version 1 (no staff keys) is read and rewritten whole at the next save.
//! Keys are made 64 at a time and appended (one frame, one sync)
//! before anything sealed with them is written; a complaint takes a spare one when it first
//! needs it, and which complaint took which key is written with the next keys made or
//! before a checkpoint writes anything sealed with it (until then replay learns it from the
//! log's sealed values). A torn last frame of `keys` is cut on open like a torn log tail;
//! any other damage, a value whose key is missing, or a value that does not open, is
//! [`FileError::Corrupt`]. A copy of a complaint is sealed with the keys of the version it is
//! at: a checkpoint that writes a copy older than an erasure or a redaction which has since
//! shredded its keys writes values that read erased or redacted, never the old data under a
//! fresh key.
//!
//! The key table is read whole when the store opens and kept in memory (two keys per
//! complaint: personal and staff): opening costs about 2 ms per 1,000 complaints the store
//! ever held (22–27 ms for 10,000 closed complaints, against 0.3–0.4 ms before keys, on a
//! loaded 2-core machine; `benches/store.rs`, `open/10000+0`), which grows with the history
//! where the rest of opening does not. Reading the table on demand, by an index of key
//! numbers and of each complaint's keys, would take that cost out of opening.
//!
//! **Erasure** ([`plaint_core::Engine::erase_complainant`], `Event::PersonalDataErased`): the
//! erasure's record is written and synced like any append; then the complaint's keys are
//! shredded and `keys` is rewritten whole through `keys.tmp` (written, synced, renamed, the
//! directory synced), so it holds no shredded key; only then is the erasure acknowledged.
//! Values sealed with a shredded key read [`plaint_core::ERASED`], wherever they are: in a
//! segment, a snapshot, a run, or a copy of those files. A crash between the record and the
//! rewrite is finished by the next open, which replays the record and shreds the keys: a
//! crash at any point leaves all of the erasure or none of it (`tests/privacy.rs` crashes at
//! every sync). Memory holds the erased complaint with its fields overwritten.
//!
//! **Redaction** (`Command::RedactText`, `Event::TextRedacted`): the redaction's record
//! carries the complaint's whole history after it, the redacted text reading
//! [`plaint_core::REDACTED`], sealed under a new staff key that seals from the redaction's
//! version on; once the record is synced, the complaint's older staff keys are shredded and
//! `keys` rewritten whole, and only then is the redaction acknowledged. Every older copy of
//! every staff text of the complaint — in a segment, a snapshot, a run, a backup — then
//! stops opening (it reads [`plaint_core::REDACTED`]), and replay takes the complaint's
//! history from the rewrite, which holds the texts not redacted. A crash at any point leaves
//! all of it or none (`tests/privacy.rs` crashes at every sync). A backup taken before a
//! redaction and restored with the `keys` of after reads every staff text the complaint had
//! then as redacted.
//!
//! **Backups**: [`backup`] copies the data files and never `keys`; keep `keys` on its own
//! terms. The data files alone open nothing without it (every sealed value is then damage;
//! [`verify`] checks their form and counts them unopened); [`restore`] takes the key table
//! to put beside them, and with the `keys` of a later moment, a complaint erased in between
//! reads `[erased]`. A backup of `keys` taken before
//! an erasure still opens that person's data: keep such backups no longer than erasure
//! requests allow.
//!
//! **What it cannot reach**: copies outside the directory that the embedding made (its logs,
//! exports, delivered notifications, its own databases); a notification text rendered before
//! a redaction that quoted the redacted text (notification texts are personal, erased with
//! the complainant); blocks the file system or the disk keeps of an overwritten `keys` (a
//! copy-on-write file system, an SSD's remapping); and values written in clear by an older
//! version (staff texts before this one, everything before personal fields were sealed). A
//! store written by an older version is checkpointed on its first open (its newest segment
//! is of an older format),
//! which seals its segments' and snapshot's data anew and removes them; runs it wrote keep
//! their clear copies until a merge of runs drops them (an erasure or a redaction writes the
//! complaint into a new run; the clear copy in the old run stays until then).
//!
//! ## What opening cannot tell
//!
//! - **The newest segment cut exactly at a frame boundary** (its last frames gone whole) reads
//!   as a shorter, valid log. A log cannot vouch for its own end: whatever recorded where it
//!   ends would itself be the newest write, lost the same way. And the picture is exactly
//!   what a crash leaves when the writes it interrupted were never synced (and never
//!   acknowledged), so the store cannot call it damage. SQLite's write-ahead log has the same
//!   limit: recovery keeps the frames up to the last valid commit frame, and a WAL cut just
//!   after an earlier commit frame reads as a valid, shorter one. Only something outside the
//!   directory (a backup, the callers' own records of what was acknowledged) can tell.
//! - **A whole directory rolled back**: every file replaced by older copies that agree with
//!   each other (a restored backup), or every file removed (an empty directory is a new
//!   store).
//! - **Stores written by plaint-file 0.1.0** open as before: their segments (format 1) name no
//!   successor, so until the first open by this version checkpoints the store (step 8), a
//!   missing newest segment of theirs goes unseen, as it did in 0.1.0. Detection starts with
//!   the first segment this version writes. A checkpoint that 0.1.0 left unfinished is not
//!   resumed (its segments do not say it started); the checkpoint of step 8 makes a new one.
//! - Under [`Durability::Buffered`], after an operating-system crash or power cut, anything
//!   unsynced may be lost or damaged, including the frame that names a segment: such damage
//!   is reported as corruption, not repaired.
//!
//! So opening takes time for the complaints in memory (those with running clocks) and the
//! log since the last checkpoint, not for the closed complaints and their histories: see the
//! README's performance section for measured figures. [`OpenReport::segments`] and
//! [`OpenReport::records`] say how much log an open read.
//!
//! # Verifying, backing up, restoring
//!
//! [`verify`] reads every file of a directory and lists damage with its file and offset,
//! writing nothing and taking no lock. [`backup`] copies a store, in use or not, consistently
//! (see [`backup()`] for the order it copies in) and only the files it names:
//! the newest snapshot, the runs it lists and the segments after it; then verifies the copy.
//! [`restore`] copies a verified backup into an empty directory, with the key table it is
//! given ([`install_keys`]).

mod backup;
mod bloom;
mod btree;
mod codec;
mod cold;
mod error;
mod frame;
pub mod fs;
mod record;
mod run;
mod seal;
#[cfg(feature = "testing")]
mod sim;
mod snapshot;
mod store;
mod verify;

pub use backup::{BackupError, Copied, backup, install_keys, restore};
pub use error::FileError;
pub use seal::KEYS_FILE;
#[cfg(feature = "testing")]
pub use sim::{SimFs, Tear};
pub use store::{Durability, FileStore, OpenReport, Opened, Options, Stats, TornTail};
pub use verify::{Finding, Severity, Verified, verify};
