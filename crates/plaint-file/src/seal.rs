//! Personal fields and staff texts sealed with keys of their complaint (crypto-shredding), and
//! the key table.
//!
//! Every personal field ([`plaint_core::privacy::PersonalData`]) and every staff-written text
//! ([`plaint_core::privacy::StaffText`]) this version writes — in log segments, snapshots and
//! runs — is sealed with XChaCha20-Poly1305 under a key of its complaint, with a random
//! 24-byte nonce and the complaint id as associated data (a sealed value moved to another
//! complaint does not open). A sealed value is the base64 (URL-safe, unpadded) of `[key
//! number: u64 LE][nonce: 24 bytes][ciphertext and tag]`. A payload holding sealed values has
//! encoding byte [`ENCODING_SEALED_ALL`] (personal fields and staff texts sealed), or
//! [`ENCODING_SEALED`] as the previous version wrote (personal fields only, staff text in
//! clear); payloads of older versions (encoding 1) hold everything in clear and are read as
//! they are.
//!
//! A complaint has two kinds of keys. Its **personal** keys seal its personal fields; an
//! erasure shreds them all, and what they sealed reads [`plaint_core::ERASED`]. Its **staff**
//! keys seal its staff texts, each from a version on (the first from 0); a redaction takes a
//! new staff key from its own version on, writes the complaint's whole history anew under it
//! (`record::Rewrite`) and then shreds the older staff keys, so every older copy of every
//! staff text of the complaint — in a segment, a snapshot, a run or a backup — stops opening
//! (it reads [`plaint_core::REDACTED`]) while the rewrite carries the ones not redacted.
//! A copy of a complaint is sealed with the keys of the version it is at: a checkpoint that
//! writes a copy older than a redaction (or an erasure) that has since shredded its keys
//! writes a value that reads redacted (erased) — never the old text under a live key.
//!
//! The keys live in the file `keys`, apart from the log, snapshots and runs: `[header
//! PLAINTKY, version 2]` (version 1, the previous version's, is rewritten whole on the first
//! save) then frames whose payload is `[encoding 3][keys: u64]` ×`[number:
//! u64][1 and the 32-byte key | 0 when shredded]` `[owners: u64]` ×`[complaint id: u16
//! length, bytes][count: u64][numbers: u64 each]` `[staff: u64]` ×`[complaint id][count:
//! u64]`×`[from version: u64][number: u64]` (little-endian; encoding 2, the previous version's,
//! has no staff part); a later frame's entries replace an earlier one's. Keys are made ahead,
//! 64 at a time, appended in one frame and synced before anything sealed with them is
//! written (a torn last frame is cut on open: nothing sealed with its keys was written), so a
//! new complaint seldom costs a sync. A complaint takes a spare key when it first needs one;
//! which complaint took which key is written with the next frame, and before a checkpoint
//! publishes anything sealed with it; until then the key's number in the log's sealed values
//! says it, and replay learns it again. Shredding rewrites the table whole through
//! `keys.tmp` (written, synced, renamed, directory synced), so the file keeps no shredded
//! key. A value whose key is missing, or that does not open, is damage
//! ([`crate::FileError::Corrupt`]).

use crate::codec;
use crate::error::FileError;
use crate::frame;
use crate::fs::{Dir, WriteFile};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use plaint_core::{ComplaintId, ERASED, PersonalData, REDACTED, StaffText};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The payload encoding of JSON whose personal fields are sealed (the previous version's).
pub(crate) const ENCODING_SEALED: u8 = 3;
/// The payload encoding of JSON whose personal fields and staff texts are sealed.
pub(crate) const ENCODING_SEALED_ALL: u8 = 4;

/// What a payload holds sealed, by its encoding byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sealing {
    /// Nothing (encoding 1).
    Clear,
    /// Personal fields (encoding 3).
    Personal,
    /// Personal fields and staff texts (encoding 4).
    All,
}

impl Sealing {
    /// What `payload` holds sealed.
    pub(crate) fn of(payload: &[u8]) -> Self {
        match payload.first() {
            Some(&ENCODING_SEALED_ALL) => Self::All,
            Some(&ENCODING_SEALED) => Self::Personal,
            _ => Self::Clear,
        }
    }
}

/// The name of the key table in a store's directory: the file [`crate::backup()`] never
/// copies and [`crate::restore`] takes apart.
pub const KEYS_FILE: &str = "keys";

/// The key table file. Version 2 has staff keys (frames of encoding 3); a table of version 1
/// is rewritten whole on its first save.
pub(crate) const KEYS: frame::Kind = frame::Kind {
    magic: b"PLAINTKY",
    version: 2,
};

const NONCE: usize = 24;
/// Keys made at a time.
const POOL: u64 = 64;

type Key = [u8; 32];

/// A frame of the key table: new or changed keys, and the keys of the complaints whose
/// keys changed (in a list: decoding builds no map, the ring's is built once).
#[derive(Default, Debug, PartialEq)]
struct Table {
    keys: Vec<(u64, Option<Key>)>,
    held: Vec<(ComplaintId, Held)>,
}

/// The keys one complaint took.
#[derive(Default, Debug, Clone, PartialEq)]
struct Held {
    /// Its personal keys, oldest first.
    personal: Vec<u64>,
    /// Its staff keys, oldest first, each with the version it seals from.
    staff: Vec<(u64, u64)>,
}

/// The encoding of a key table frame of the previous version: keys and personal owners.
const ENCODING_KEYS: u8 = 2;
/// The encoding of a key table frame: keys, personal owners and staff keys.
const ENCODING_KEYS_STAFF: u8 = 3;

impl Table {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![ENCODING_KEYS_STAFF];
        codec::put_u64(&mut out, self.keys.len() as u64);
        for (n, k) in &self.keys {
            codec::put_u64(&mut out, *n);
            match k {
                Some(k) => {
                    out.push(1);
                    out.extend_from_slice(k);
                }
                None => out.push(0),
            }
        }
        codec::put_u64(&mut out, self.held.len() as u64);
        for (id, h) in &self.held {
            codec::put_bytes(&mut out, id.as_str().as_bytes());
            codec::put_u64(&mut out, h.personal.len() as u64);
            h.personal.iter().for_each(|n| codec::put_u64(&mut out, *n));
        }
        codec::put_u64(&mut out, self.held.len() as u64);
        for (id, h) in &self.held {
            codec::put_bytes(&mut out, id.as_str().as_bytes());
            codec::put_u64(&mut out, h.staff.len() as u64);
            for (from, n) in &h.staff {
                codec::put_u64(&mut out, *from);
                codec::put_u64(&mut out, *n);
            }
        }
        out
    }

    fn decode(payload: &[u8]) -> Result<Self, String> {
        let (mut t, staff) = match payload.split_first() {
            Some((&ENCODING_KEYS, body)) => (codec::Take(body), false),
            Some((&ENCODING_KEYS_STAFF, body)) => (codec::Take(body), true),
            Some((other, _)) => return Err(format!("unknown key table encoding {other}")),
            None => return Err("an empty key table frame".into()),
        };
        let mut table = Table::default();
        for _ in 0..t.u64()? {
            let n = t.u64()?;
            let key = match t.u8()? {
                0 => None,
                1 => Some(Key::try_from(t.raw(32)?).map_err(|_| "a short key")?),
                _ => return Err("a key has a bad flag".into()),
            };
            table.keys.push((n, key));
        }
        let id = |t: &mut codec::Take<'_>| -> Result<ComplaintId, String> {
            ComplaintId::new(t.str()?).map_err(|e| e.to_string())
        };
        for _ in 0..t.u64()? {
            let id = id(&mut t)?;
            let mut personal = Vec::new();
            for _ in 0..t.u64()? {
                personal.push(t.u64()?);
            }
            table.held.push((
                id,
                Held {
                    personal,
                    staff: Vec::new(),
                },
            ));
        }
        if staff {
            // The staff part names the same complaints in the same order (as `encode` writes
            // it); a table written otherwise is read all the same.
            for i in 0..t.u64()? {
                let id = id(&mut t)?;
                let mut ks = Vec::new();
                for _ in 0..t.u64()? {
                    ks.push((t.u64()?, t.u64()?));
                }
                let i = usize::try_from(i).unwrap_or(usize::MAX);
                let at = match table.held.get(i) {
                    Some((same, _)) if *same == id => Some(i),
                    _ => table.held.iter().position(|(same, _)| *same == id),
                };
                match at {
                    Some(at) => table.held[at].1.staff = ks,
                    None => table.held.push((
                        id,
                        Held {
                            personal: Vec::new(),
                            staff: ks,
                        },
                    )),
                }
            }
        }
        if !t.0.is_empty() {
            return Err("bytes after the key table".into());
        }
        Ok(table)
    }
}

/// Which key seals a value: a live one, or one shredded since (the value is written so that
/// it reads erased or redacted, as every other copy sealed with that key does).
enum Use {
    Seal(u64, Key),
    Shredded(u64),
}

#[derive(Default)]
struct Ring {
    /// Every key by number; `None` once shredded.
    keys: BTreeMap<u64, Option<Key>>,
    /// The keys each complaint took.
    held: HashMap<ComplaintId, Held>,
    /// The keys some complaint took (`held` says which).
    owned: HashSet<u64>,
    /// The version of each complaint's erasure this handle applied: a copy of an older
    /// version is sealed as erased.
    erased: HashMap<ComplaintId, u64>,
    /// Live keys no complaint took yet. (Keys a table holds untaken when it is opened are
    /// handed out only once the log is replayed — [`Keys::replayed`]: it may hold values
    /// sealed with them whose taking was not written, and replay learns it.)
    spare: BTreeSet<u64>,
    /// Keys made since the table was last written: written before anything sealed with them.
    made: BTreeSet<u64>,
    /// Complaints whose keys changed since the table was last written.
    taken: BTreeSet<ComplaintId>,
    /// A key was shredded since (or the file is of an older version): the table is rewritten
    /// whole next.
    shredded: bool,
    /// The key file, open for appending.
    file: Option<Box<dyn WriteFile>>,
}

/// Random bytes from the operating system.
fn random(out: &mut [u8]) -> Result<(), FileError> {
    getrandom::fill(out)
        .map_err(|e| FileError::Sealing(format!("the operating system's random generator: {e}")))
}

impl Ring {
    /// A spare key, taken out of the spares (making more when none is left).
    fn spare(&mut self) -> Result<u64, FileError> {
        if self.spare.is_empty() {
            let first = self
                .keys
                .last_key_value()
                .map_or(Some(1), |(n, _)| n.checked_add(1));
            let Some((first, end)) = first.and_then(|f| Some((f, f.checked_add(POOL)?))) else {
                return Err(FileError::Sealing(
                    "the key table has no key numbers left".into(),
                ));
            };
            let mut made = Vec::new();
            for n in first..end {
                let mut key = [0u8; 32];
                random(&mut key)?;
                made.push((n, key));
            }
            for (n, key) in made {
                self.keys.insert(n, Some(key));
                self.spare.insert(n);
                self.made.insert(n);
            }
        }
        Ok(self.spare.pop_first().unwrap_or_default())
    }

    fn live(&self, n: u64) -> Use {
        match self.keys.get(&n) {
            Some(Some(key)) => Use::Seal(n, *key),
            _ => Use::Shredded(n),
        }
    }

    /// The personal key complaint `id` seals a copy at version `at` with: for a copy older
    /// than an erasure this handle applied, one the erasure shredded (whatever key the
    /// complaint took since); else its newest, unless shredded; else a spare.
    fn personal(&mut self, id: &ComplaintId, at: u64) -> Result<Use, FileError> {
        let owned = self
            .held
            .get(id)
            .map(|h| h.personal.as_slice())
            .unwrap_or_default();
        if self.erased.get(id).is_some_and(|w| at < *w)
            && let Some(&n) = owned
                .iter()
                .rev()
                .find(|n| !matches!(self.keys.get(n), Some(Some(_))))
        {
            return Ok(Use::Shredded(n));
        }
        if let Some(&n) = owned.last()
            && let live @ Use::Seal(..) = self.live(n)
        {
            return Ok(live);
        }
        let n = self.spare()?;
        self.learn(id, n);
        Ok(self.live(n))
    }

    /// The staff key complaint `id` seals a copy at version `at` with: the newest that seals
    /// from `at` or earlier (shredded if a redaction replaced it); its first, taken now, if
    /// it has none.
    fn staff(&mut self, id: &ComplaintId, at: u64) -> Result<Use, FileError> {
        if let Some(ks) = self
            .held
            .get(id)
            .map(|h| &h.staff)
            .filter(|ks| !ks.is_empty())
        {
            let n = ks
                .iter()
                .rev()
                .find(|(from, _)| *from <= at)
                .unwrap_or(&ks[0])
                .1;
            return Ok(self.live(n));
        }
        let n = self.spare()?;
        self.learn_staff(id, n, 0);
        Ok(self.live(n))
    }

    /// Records that complaint `id` holds personal data sealed with key `n` (learnt on
    /// reading it).
    fn learn(&mut self, id: &ComplaintId, n: u64) {
        if self.owned.insert(n) {
            self.spare.remove(&n);
            self.held.entry(id.clone()).or_default().personal.push(n);
            self.taken.insert(id.clone());
        }
    }

    /// Records that complaint `id` seals staff texts with key `n` from version `from` on.
    fn learn_staff(&mut self, id: &ComplaintId, n: u64, from: u64) {
        if self.owned.insert(n) {
            self.spare.remove(&n);
            let ks = &mut self.held.entry(id.clone()).or_default().staff;
            ks.push((from, n));
            ks.sort_unstable();
            self.taken.insert(id.clone());
        }
    }

    fn shred_key(&mut self, n: u64) {
        if let Some(k) = self.keys.get_mut(&n)
            && k.is_some()
        {
            *k = None;
            self.shredded = true;
        }
    }

    /// The frame of everything changed since the last write, or of the whole table.
    fn table(&self, whole: bool) -> Table {
        let mut held: Vec<(ComplaintId, Held)> = if whole {
            self.held
                .iter()
                .map(|(id, h)| (id.clone(), h.clone()))
                .collect()
        } else {
            self.taken
                .iter()
                .map(|id| (id.clone(), self.held.get(id).cloned().unwrap_or_default()))
                .collect()
        };
        held.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let keys = if whole {
            // Shredded keys nobody took are left out; live ones stay (during replay a key
            // may be taken by a record not replayed yet).
            self.keys
                .iter()
                .filter(|(n, k)| k.is_some() || self.owned.contains(n))
                .map(|(n, k)| (*n, *k))
                .collect()
        } else {
            self.made.iter().map(|n| (*n, self.keys[n])).collect()
        };
        Table { keys, held }
    }
}

/// The store's keys, shared by the callers that seal, the writer and checkpoint threads that
/// save and shred, and the readers that open.
#[derive(Default)]
pub(crate) struct Keys {
    ring: Mutex<Ring>,
    /// `Some` for a table that opens nothing ([`Keys::leave_sealed`]): the sealed fields
    /// met, left as they are.
    left_sealed: Option<AtomicU64>,
}

fn aad(complaint: &ComplaintId) -> Vec<u8> {
    [
        b"plaint personal v1\0".as_slice(),
        complaint.as_str().as_bytes(),
    ]
    .concat()
}

fn frame_of(table: &Table) -> Vec<u8> {
    let mut bytes = Vec::new();
    frame::encode(&table.encode(), &mut bytes);
    bytes
}

/// Key `k` with its cipher (none for a shredded key), made once per value sealed.
fn with_cipher(k: Use) -> (Use, Option<XChaCha20Poly1305>) {
    let cipher = match &k {
        Use::Seal(_, key) => Some(XChaCha20Poly1305::new(&(*key).into())),
        Use::Shredded(_) => None,
    };
    (k, cipher)
}

/// Seals `clear` under key `k` (or, for a shredded key, writes a value naming it that opens
/// as erased or redacted).
fn seal_one(
    k: &Use,
    cipher: &Option<XChaCha20Poly1305>,
    aad: &[u8],
    clear: &str,
) -> Result<String, FileError> {
    let mut nonce = [0u8; NONCE];
    let (number, sealed) = match (k, cipher) {
        (Use::Seal(n, _), Some(cipher)) => {
            random(&mut nonce)?;
            let sealed = cipher
                .encrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: clear.as_bytes(),
                        aad,
                    },
                )
                .map_err(|_| FileError::Sealing("the cipher refused".into()))?;
            (*n, sealed)
        }
        (Use::Shredded(n), _) | (Use::Seal(n, _), None) => (*n, Vec::new()),
    };
    Ok(B64.encode([&number.to_le_bytes()[..], &nonce, &sealed].concat()))
}

impl Keys {
    fn ring(&self) -> MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads `keys` in `dir`; no file is an empty table (a new store, or one written before
    /// personal fields were sealed). A last frame cut short is an append a crash
    /// interrupted, never followed by anything sealed with its keys: it is cut off.
    pub(crate) fn load(dir: &Dir) -> Result<Self, FileError> {
        Ok(Self::parse(dir, true)?.unwrap_or_default())
    }

    /// Reads `keys` in `dir` without changing anything (a torn last frame is left out, not
    /// cut); `None` when there is no key table.
    pub(crate) fn read(dir: &Dir) -> Result<Option<Self>, FileError> {
        Self::parse(dir, false)
    }

    /// A table that opens nothing: [`Keys::open`] leaves every sealed field as it is and
    /// counts it ([`Keys::left_sealed`]), for checking the structure of a copy that has no
    /// key table (a backup).
    pub(crate) fn leave_sealed() -> Self {
        Self {
            left_sealed: Some(AtomicU64::new(0)),
            ..Self::default()
        }
    }

    /// How many sealed fields a [`Keys::leave_sealed`] table left sealed.
    pub(crate) fn left_sealed(&self) -> u64 {
        self.left_sealed
            .as_ref()
            .map_or(0, |n| n.load(Ordering::Relaxed))
    }

    fn parse(dir: &Dir, cut: bool) -> Result<Option<Self>, FileError> {
        let path = dir.file(KEYS_FILE);
        let mut data = match dir.fs.read(&path) {
            Ok(data) => data,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FileError::io("read", &path)(e)),
        };
        if frame::header_cut_short(&data, &KEYS) {
            // Created, its header never durable: nothing was written to it.
            if cut {
                dir.remove(&[KEYS_FILE.to_owned()])?;
            }
            return Ok(None);
        }
        let version = frame::check_header(&data, &KEYS, &path)?;
        let scan = frame::scan(&data);
        if let Some((at, why)) = scan.bad {
            if !scan.torn_tail(&data) {
                return Err(FileError::corrupt(&path, at as u64, why));
            }
            if cut {
                dir.fs
                    .truncate(&path, at as u64)
                    .map_err(FileError::io("truncate", &path))?;
            }
            data.truncate(at);
        }
        let mut ring = Ring::default();
        for r in &scan.frames {
            let at = (r.start - frame::FRAME_OVERHEAD) as u64;
            let table = Table::decode(&data[r.clone()])
                .map_err(|why| FileError::corrupt(&path, at, why))?;
            ring.keys.extend(table.keys);
            ring.held.extend(table.held);
        }
        // A table of an older version is written whole under the new header at the next save
        // (the version that reads its frames must be the one its header names).
        ring.shredded = version < KEYS.version;
        ring.owned = ring
            .held
            .values()
            .flat_map(|h| h.personal.iter().chain(h.staff.iter().map(|(_, n)| n)))
            .copied()
            .collect();
        Ok(Some(Self {
            ring: Mutex::new(ring),
            left_sealed: None,
        }))
    }

    /// Makes the table's changes durable: keys made and taken since are appended in one frame
    /// (one sync); after a shredding the table is rewritten whole through `keys.tmp`, so no
    /// shredded key is left in the file.
    pub(crate) fn save(&self, dir: &Dir) -> Result<(), FileError> {
        let mut ring = self.ring();
        let path = dir.file(KEYS_FILE);
        if ring.shredded {
            let bytes = frame_of(&ring.table(true));
            ring.file = None;
            dir.publish(KEYS_FILE, &frame::header(&KEYS), |f| {
                f.write_all(&bytes).map_err(FileError::io("write", &path))
            })?;
            ring.shredded = false;
            ring.made.clear();
            ring.taken.clear();
            return Ok(());
        }
        if ring.made.is_empty() && ring.taken.is_empty() {
            return Ok(());
        }
        let bytes = frame_of(&ring.table(false));
        let mut file = match ring.file.take() {
            Some(f) => f,
            None => match dir.fs.append(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    dir.create(KEYS_FILE, &frame::header(&KEYS))?
                }
                Err(e) => return Err(FileError::io("open", &path)(e)),
            },
        };
        file.write_all(&bytes)
            .and_then(|()| file.sync_data())
            .map_err(FileError::io("write", &path))?;
        ring.file = Some(file);
        ring.made.clear();
        ring.taken.clear();
        Ok(())
    }

    /// The log is replayed: every key taken is known, the others may be handed out.
    pub(crate) fn replayed(&self) {
        let mut ring = self.ring();
        let spare: BTreeSet<u64> = ring
            .keys
            .iter()
            .filter(|(n, k)| k.is_some() && !ring.owned.contains(n))
            .map(|(n, _)| *n)
            .collect();
        ring.spare = spare;
    }

    /// Whether a key was shredded and the table not rewritten since.
    pub(crate) fn unsaved_shredding(&self) -> bool {
        self.ring().shredded
    }

    /// Whether keys were made that are not durable yet: nothing sealed with them may be
    /// written before [`Keys::save`].
    pub(crate) fn unsaved_keys(&self) -> bool {
        !self.ring().made.is_empty()
    }

    /// Shreds every personal key of `complaint`, erased at version `at`: what was sealed
    /// with them reads [`ERASED`] once the table is saved, and a copy of the complaint older
    /// than `at` is sealed as erased from now on.
    pub(crate) fn shred(&self, complaint: &ComplaintId, at: u64) {
        let mut ring = self.ring();
        ring.erased.insert(complaint.clone(), at);
        let personal = ring.held.get(complaint).map(|h| h.personal.clone());
        for n in personal.unwrap_or_default() {
            ring.shred_key(n);
        }
    }

    /// A new staff key for `complaint` from version `from` on (a redaction's rewrite seals
    /// with it), and the staff keys it replaces: [`Keys::shred_staff`] them once the
    /// rewrite is durable.
    pub(crate) fn rotate(
        &self,
        complaint: &ComplaintId,
        from: u64,
    ) -> Result<(u64, Vec<u64>), FileError> {
        let mut ring = self.ring();
        let old = ring
            .held
            .get(complaint)
            .map(|h| h.staff.iter().map(|(_, n)| *n).collect())
            .unwrap_or_default();
        let n = ring.spare()?;
        ring.learn_staff(complaint, n, from);
        Ok((n, old))
    }

    /// Registers `complaint`'s staff key `n` from version `from` (a rewrite replayed: its key
    /// may not be in the table yet) and shreds the keys `old` it replaced.
    pub(crate) fn rotated(&self, complaint: &ComplaintId, n: u64, from: u64, old: &[u64]) {
        let mut ring = self.ring();
        ring.learn_staff(complaint, n, from);
        for &o in old {
            if o != n {
                ring.shred_key(o);
            }
        }
    }

    /// Seals every personal field and staff text of `value`, a copy of `complaint` at version
    /// `at`, under its keys for that version (taking spare ones it has none: see
    /// [`Keys::unsaved_keys`]).
    ///
    /// # Errors
    /// [`FileError::Sealing`] when the operating system's random generator fails.
    pub(crate) fn seal<T: PersonalData + StaffText>(
        &self,
        complaint: &ComplaintId,
        at: u64,
        value: &mut T,
    ) -> Result<(), FileError> {
        self.seal_personal(complaint, at, value)?;
        let aad = aad(complaint);
        let mut key: Option<(Use, Option<XChaCha20Poly1305>)> = None;
        value.try_map_staff_text(&mut |_, clear| {
            let (k, cipher) = match &mut key {
                Some(k) => k,
                None => key.insert(with_cipher(self.ring().staff(complaint, at)?)),
            };
            seal_one(k, cipher, &aad, clear)
        })
    }

    /// Seals every personal field of `value` (a notification of `complaint`'s version `at`).
    ///
    /// # Errors
    /// [`FileError::Sealing`] when the operating system's random generator fails.
    pub(crate) fn seal_personal<T: PersonalData>(
        &self,
        complaint: &ComplaintId,
        at: u64,
        value: &mut T,
    ) -> Result<(), FileError> {
        // A key is taken only for a value that holds a personal field.
        let aad = aad(complaint);
        let mut key: Option<(Use, Option<XChaCha20Poly1305>)> = None;
        value.try_map_personal(&mut |clear| {
            let (k, cipher) = match &mut key {
                Some(k) => k,
                None => key.insert(with_cipher(self.ring().personal(complaint, at)?)),
            };
            seal_one(k, cipher, &aad, clear)
        })
    }

    /// Opens every sealed field of `value`, a copy of `complaint` from a payload holding
    /// `sealing` ([`Sealing::of`]): a personal field whose key is shredded reads [`ERASED`],
    /// a staff text [`REDACTED`]. `from` is the first version the copy holds: a staff key met
    /// for the first time seals from there on (replay learns takings the table missed).
    ///
    /// # Errors
    /// Why a field does not open (no such key, not a sealed value, wrong tag): damage.
    pub(crate) fn open<T: PersonalData + StaffText>(
        &self,
        complaint: &ComplaintId,
        from: u64,
        sealing: Sealing,
        value: &mut T,
    ) -> Result<(), String> {
        self.open_personal(complaint, sealing, value)?;
        if sealing != Sealing::All {
            return Ok(());
        }
        let mut opener = Opener::new(self, complaint, REDACTED);
        value.try_map_staff_text(&mut |_, sealed| {
            opener.open(sealed, |ring, n| ring.learn_staff(complaint, n, from))
        })
    }

    /// Opens every personal field of `value` (see [`Keys::open`]).
    ///
    /// # Errors
    /// Why a field does not open: damage.
    pub(crate) fn open_personal<T: PersonalData>(
        &self,
        complaint: &ComplaintId,
        sealing: Sealing,
        value: &mut T,
    ) -> Result<(), String> {
        if sealing == Sealing::Clear {
            return Ok(());
        }
        let mut opener = Opener::new(self, complaint, ERASED);
        value
            .try_map_personal(&mut |sealed| opener.open(sealed, |ring, n| ring.learn(complaint, n)))
    }
}

/// Opens the sealed values of one complaint, keeping the last key's cipher.
struct Opener<'a> {
    keys: &'a Keys,
    complaint: &'a ComplaintId,
    aad: Vec<u8>,
    /// What a value whose key is shredded reads.
    gone: &'static str,
    /// The last key's number, its cipher (`None`: shredded), and whether its taking is known.
    cipher: Option<(u64, Option<XChaCha20Poly1305>, bool)>,
}

impl<'a> Opener<'a> {
    fn new(keys: &'a Keys, complaint: &'a ComplaintId, gone: &'static str) -> Self {
        Self {
            keys,
            complaint,
            aad: aad(complaint),
            gone,
            cipher: None,
        }
    }

    fn open(&mut self, sealed: &str, learn: impl FnOnce(&mut Ring, u64)) -> Result<String, String> {
        let complaint = self.complaint;
        if let Some(left) = &self.keys.left_sealed {
            left.fetch_add(1, Ordering::Relaxed);
            return Ok(sealed.to_owned());
        }
        let bytes = B64
            .decode(sealed)
            .map_err(|_| format!("a sealed field of {complaint} is not base64"))?;
        if bytes.len() < 8 + NONCE {
            return Err(format!("a sealed field of {complaint} is too short"));
        }
        let mut number = [0u8; 8];
        number.copy_from_slice(&bytes[..8]);
        let number = u64::from_le_bytes(number);
        if self.cipher.as_ref().is_none_or(|(n, ..)| *n != number) {
            // The lock is held to look a key up, not to decrypt: snapshots are read on every
            // core.
            let ring = self.keys.ring();
            let key = *ring
                .keys
                .get(&number)
                .ok_or_else(|| format!("no key {number} for {complaint} in the key table"))?;
            let known = ring.owned.contains(&number);
            drop(ring);
            let cipher = key.map(|k| XChaCha20Poly1305::new(&k.into()));
            self.cipher = Some((number, cipher, known));
        }
        let Some((_, cipher, known)) = self.cipher.as_mut() else {
            return Err(format!("a sealed field of {complaint} has no key"));
        };
        let Some(c) = cipher else {
            return Ok(self.gone.to_owned());
        };
        let clear = c
            .decrypt(
                XNonce::from_slice(&bytes[8..8 + NONCE]),
                Payload {
                    msg: &bytes[8 + NONCE..],
                    aad: &self.aad,
                },
            )
            .map_err(|_| format!("a sealed field of {complaint} does not open"))?;
        if !*known {
            // Taken by this complaint: a taking replay learns (see the module docs).
            learn(&mut self.keys.ring(), number);
            *known = true;
        }
        String::from_utf8(clear).map_err(|_| format!("a sealed field of {complaint} is not text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaint_core::{Complainant, Contact};

    fn person() -> Complainant {
        Complainant {
            id: plaint_core::ActorId::new("cust-1").unwrap(),
            name: "Zhang San".into(),
            contacts: vec![Contact::Phone("13812345678".into())],
        }
    }

    fn id(s: &str) -> ComplaintId {
        ComplaintId::new(s).unwrap()
    }

    #[test]
    fn sealed_values_open_only_for_their_complaint_and_until_shredded() {
        let keys = Keys::default();
        let mut sealed = person();
        keys.seal_personal(&id("C-1"), 1, &mut sealed).unwrap();
        assert!(!sealed.name.contains("Zhang") && sealed.name != person().name);
        let mut other = sealed.clone();
        keys.seal_personal(&id("C-2"), 1, &mut Complainant { ..person() })
            .unwrap();
        // Moved to another complaint: its associated data differs, so it does not open.
        assert!(
            keys.open_personal(&id("C-2"), Sealing::All, &mut other)
                .is_err()
        );
        let mut opened = sealed.clone();
        keys.open_personal(&id("C-1"), Sealing::All, &mut opened)
            .unwrap();
        assert_eq!(opened, person());
        // A flipped byte of the ciphertext does not open.
        let mut bytes = B64.decode(&sealed.name).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        let mut damaged = sealed.clone();
        damaged.name = B64.encode(bytes);
        assert!(
            keys.open_personal(&id("C-1"), Sealing::All, &mut damaged)
                .is_err()
        );
        // Shredded: it reads erased; a key never made is damage.
        keys.shred(&id("C-1"), 5);
        let mut gone = sealed.clone();
        keys.open_personal(&id("C-1"), Sealing::All, &mut gone)
            .unwrap();
        assert_eq!(gone.name, ERASED);
        assert!(
            Keys::default()
                .open_personal(&id("C-1"), Sealing::All, &mut sealed.clone())
                .is_err()
        );
        // A copy older than the erasure is sealed as erased; a newer one takes a new key.
        let mut old = person();
        keys.seal_personal(&id("C-1"), 4, &mut old).unwrap();
        keys.open_personal(&id("C-1"), Sealing::All, &mut old)
            .unwrap();
        assert_eq!(old.name, ERASED);
        let mut again = person();
        keys.seal_personal(&id("C-1"), 6, &mut again).unwrap();
        keys.open_personal(&id("C-1"), Sealing::All, &mut again)
            .unwrap();
        assert_eq!(again, person());
        // Once it has a new key, a copy older than the erasure still reads erased.
        let mut late = person();
        keys.seal_personal(&id("C-1"), 4, &mut late).unwrap();
        keys.open_personal(&id("C-1"), Sealing::All, &mut late)
            .unwrap();
        assert_eq!(late.name, ERASED);
    }

    #[test]
    fn a_rotated_staff_key_seals_from_its_version_and_shreds_the_older_ones() {
        use plaint_core::{ActorId, CommandId, Event, Recorded};
        let keys = Keys::default();
        let c = id("C-1");
        let note = |v: u64| Recorded {
            ..Recorded::numbered(
                vec![Event::ProgressReported {
                    note: format!("call 1380013800{v}").into(),
                }],
                v - 1,
                plaint_core::model::EARLIEST,
                &plaint_core::Actor::staff(ActorId::new("a").unwrap(), vec![], None),
                &CommandId::new("c").unwrap(),
            )
            .remove(0)
        };
        let mut early = vec![note(1)];
        keys.seal(&c, 1, &mut early).unwrap();
        let (new, old) = keys.rotate(&c, 3).unwrap();
        assert_eq!(old.len(), 1);
        // A copy at version 2 still seals with the old key, at 3 with the new one.
        let mut before = vec![note(2)];
        keys.seal(&c, 2, &mut before).unwrap();
        let mut after = vec![note(3)];
        keys.seal(&c, 3, &mut after).unwrap();
        keys.rotated(&c, new, 3, &old);
        for (mut copy, reads) in [
            (early, REDACTED.to_owned()),
            (before, REDACTED.to_owned()),
            (after, "call 13800138003".to_owned()),
        ] {
            keys.open(&c, 0, Sealing::All, &mut copy).unwrap();
            let Event::ProgressReported { note } = &copy[0].event else {
                panic!()
            };
            assert_eq!(**note, reads);
        }
        // A copy older than the rotation sealed now reads redacted, never the old text.
        let mut late = vec![note(2)];
        keys.seal(&c, 2, &mut late).unwrap();
        keys.open(&c, 0, Sealing::All, &mut late).unwrap();
        assert!(matches!(&late[0].event, Event::ProgressReported { note } if **note == *REDACTED));
    }

    #[test]
    fn the_key_table_reads_back_what_it_wrote() {
        let table = Table {
            keys: vec![(1, Some([7; 32])), (2, None), (3, Some([8; 32]))],
            held: vec![
                (
                    id("C-1"),
                    Held {
                        personal: vec![1, 2],
                        staff: vec![(0, 3)],
                    },
                ),
                (
                    id("C-2"),
                    Held {
                        personal: vec![],
                        staff: vec![],
                    },
                ),
            ],
        };
        let back = Table::decode(&table.encode()).unwrap();
        assert_eq!(back, table);
        let bytes = table.encode();
        for cut in 0..bytes.len() {
            assert!(Table::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
