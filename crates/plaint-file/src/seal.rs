//! Personal fields sealed with a key per complaint (crypto-shredding), and the key table.
//!
//! Every personal field ([`plaint_core::privacy`]) this version writes — in log segments,
//! snapshots and runs — is sealed with XChaCha20-Poly1305 under a key of its complaint, with
//! a random 24-byte nonce and the complaint id as associated data (a sealed value moved to
//! another complaint does not open). A sealed value is the base64 (URL-safe, unpadded) of
//! `[key number: u64 LE][nonce: 24 bytes][ciphertext and tag]`. A payload holding sealed
//! values has encoding byte [`ENCODING_SEALED`]; payloads of older versions (encoding 1)
//! hold them in clear and are read as they are.
//!
//! The keys live in the file `keys`, apart from the log, snapshots and runs: `[header
//! PLAINTKY, version 1]` then frames whose payload is `[encoding 2][keys: u64]` ×`[number:
//! u64][1 and the 32-byte key | 0 when shredded]` `[owners: u64]` ×`[complaint id: u16
//! length, bytes][count: u64][numbers: u64 each]` (little-endian); a later frame's entries
//! replace an earlier one's. Keys are made ahead, 64 at a time, appended in
//! one frame and synced before anything sealed with them is written (a torn last frame is cut
//! on open: nothing sealed with its keys was written), so a new complaint seldom costs a
//! sync. A complaint takes a spare key when it first needs one; which complaint took which
//! key is written with the next frame, and before a checkpoint publishes anything sealed with
//! it; until then the key's number in the log's sealed values says it, and replay learns it
//! again. Erasing a complaint shreds its keys and rewrites the table whole through
//! `keys.tmp` (written, synced, renamed, directory synced), so the file keeps no shredded
//! key; something sealed for the complaint later takes a new one. A value whose key is
//! shredded reads [`plaint_core::ERASED`]; one whose key is missing, or that does not open,
//! is damage ([`crate::FileError::Corrupt`]).

use crate::codec;
use crate::error::FileError;
use crate::frame;
use crate::fs::{Dir, WriteFile};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use plaint_core::{ComplaintId, ERASED, PersonalData};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The payload encoding of JSON whose personal fields are sealed.
pub(crate) const ENCODING_SEALED: u8 = 3;

/// The name of the key table in a store's directory: the file [`crate::backup()`] never
/// copies and [`crate::restore`] takes apart.
pub const KEYS_FILE: &str = "keys";

/// The key table file.
pub(crate) const KEYS: frame::Kind = frame::Kind {
    magic: b"PLAINTKY",
    version: 1,
};

const NONCE: usize = 24;
/// Keys made at a time.
const POOL: u64 = 64;

type Key = [u8; 32];

/// A frame of the key table: new or changed keys and owners.
#[derive(Default)]
struct Table {
    keys: BTreeMap<u64, Option<Key>>,
    owners: BTreeMap<ComplaintId, Vec<u64>>,
}

/// The encoding of a key table frame: binary fields (see the module docs).
const ENCODING_KEYS: u8 = 2;

impl Table {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![ENCODING_KEYS];
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
        codec::put_u64(&mut out, self.owners.len() as u64);
        for (id, ns) in &self.owners {
            codec::put_bytes(&mut out, id.as_str().as_bytes());
            codec::put_u64(&mut out, ns.len() as u64);
            ns.iter().for_each(|n| codec::put_u64(&mut out, *n));
        }
        out
    }

    fn decode(payload: &[u8]) -> Result<Self, String> {
        let mut t = match payload.split_first() {
            Some((&ENCODING_KEYS, body)) => codec::Take(body),
            Some((other, _)) => return Err(format!("unknown key table encoding {other}")),
            None => return Err("an empty key table frame".into()),
        };
        let mut table = Table::default();
        for _ in 0..t.u64()? {
            let n = t.u64()?;
            let key = match t.u8()? {
                0 => None,
                1 => Some(Key::try_from(t.raw(32)?).expect("32 bytes")),
                _ => return Err("a key has a bad flag".into()),
            };
            table.keys.insert(n, key);
        }
        for _ in 0..t.u64()? {
            let id = ComplaintId::new(t.str()?).map_err(|e| e.to_string())?;
            let mut ns = Vec::new();
            for _ in 0..t.u64()? {
                ns.push(t.u64()?);
            }
            table.owners.insert(id, ns);
        }
        if !t.0.is_empty() {
            return Err("bytes after the key table".into());
        }
        Ok(table)
    }
}

#[derive(Default)]
struct Ring {
    /// Every key by number; `None` once shredded.
    keys: BTreeMap<u64, Option<Key>>,
    /// The keys each complaint took, oldest first.
    owners: BTreeMap<ComplaintId, Vec<u64>>,
    /// Which complaint took each key.
    owner: BTreeMap<u64, ComplaintId>,
    /// Live keys no complaint took yet. (Keys a table holds untaken when it is opened are
    /// handed out only once the log is replayed — [`Keys::replayed`]: it may hold values
    /// sealed with them whose taking was not written, and replay learns it.)
    spare: BTreeSet<u64>,
    /// Keys made since the table was last written: written before anything sealed with them.
    made: BTreeSet<u64>,
    /// Complaints whose keys changed since the table was last written.
    taken: BTreeSet<ComplaintId>,
    /// A key was shredded since: the table is rewritten whole next.
    shredded: bool,
    /// The key file, open for appending.
    file: Option<Box<dyn WriteFile>>,
}

impl Ring {
    fn next_number(&self) -> u64 {
        self.keys.last_key_value().map_or(1, |(n, _)| n + 1)
    }

    /// The key complaint `id` seals with now: its newest, unless shredded; else a spare one
    /// (making more when none is left).
    fn current(&mut self, id: &ComplaintId) -> (u64, Key) {
        if let Some(&n) = self.owners.get(id).and_then(|o| o.last())
            && let Some(Some(key)) = self.keys.get(&n)
        {
            return (n, *key);
        }
        if self.spare.is_empty() {
            let first = self.next_number();
            for n in first..first + POOL {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).expect("the operating system's random generator");
                self.keys.insert(n, Some(key));
                self.spare.insert(n);
                self.made.insert(n);
            }
        }
        let n = self.spare.pop_first().expect("just made");
        self.learn(id, n);
        let key = self.keys[&n].expect("a spare key is live");
        (n, key)
    }

    /// Records that complaint `id` holds data sealed with key `n` (learnt on reading it).
    fn learn(&mut self, id: &ComplaintId, n: u64) {
        if !self.owner.contains_key(&n) {
            self.spare.remove(&n);
            self.owner.insert(n, id.clone());
            self.owners.entry(id.clone()).or_default().push(n);
            self.taken.insert(id.clone());
        }
    }

    /// The frame of everything changed since the last write, or of the whole table.
    fn table(&self, whole: bool) -> Table {
        if whole {
            // Keys nobody took and this handle will not hand out were never used (replay
            // has learnt every taking): they are left out.
            return Table {
                keys: self
                    .keys
                    .iter()
                    .filter(|(n, _)| self.owner.contains_key(n) || self.spare.contains(n))
                    .map(|(n, k)| (*n, *k))
                    .collect(),
                owners: self.owners.clone(),
            };
        }
        Table {
            keys: self.made.iter().map(|n| (*n, self.keys[n])).collect(),
            owners: self
                .taken
                .iter()
                .map(|id| (id.clone(), self.owners.get(id).cloned().unwrap_or_default()))
                .collect(),
        }
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
        frame::check_header(&data, &KEYS, &path)?;
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
            ring.owners.extend(table.owners);
        }
        ring.owner = ring
            .owners
            .iter()
            .flat_map(|(id, ns)| ns.iter().map(move |n| (*n, id.clone())))
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
        if ring.file.is_none() {
            let file = match dir.fs.append(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    dir.create(KEYS_FILE, &frame::header(&KEYS))?
                }
                Err(e) => return Err(FileError::io("open", &path)(e)),
            };
            ring.file = Some(file);
        }
        let file = ring.file.as_mut().expect("just opened");
        if let Err(e) = file.write_all(&bytes).and_then(|()| file.sync_data()) {
            ring.file = None;
            return Err(FileError::io("write", &path)(e));
        }
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
            .filter(|(n, k)| k.is_some() && !ring.owner.contains_key(n))
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

    /// Shreds every key of `complaint`: what was sealed with them reads [`ERASED`] once the
    /// table is saved.
    pub(crate) fn shred(&self, complaint: &ComplaintId) {
        let mut ring = self.ring();
        let owned = ring.owners.get(complaint).cloned().unwrap_or_default();
        for n in owned {
            if let Some(k) = ring.keys.get_mut(&n) {
                *k = None;
                ring.shredded = true;
            }
        }
    }

    /// Seals every personal field of `value` under `complaint`'s current key (taking a spare
    /// one if it has none: see [`Keys::unsaved_keys`]).
    pub(crate) fn seal<T: PersonalData>(&self, complaint: &ComplaintId, value: &mut T) {
        // A key is taken only for a value that holds a personal field.
        let mut cipher: Option<([u8; 8], XChaCha20Poly1305)> = None;
        let aad = aad(complaint);
        value.map_personal(&mut |clear| {
            let (number, cipher) = cipher.get_or_insert_with(|| {
                let (number, key) = self.ring().current(complaint);
                (number.to_le_bytes(), XChaCha20Poly1305::new(&key.into()))
            });
            let mut nonce = [0u8; NONCE];
            getrandom::fill(&mut nonce).expect("the operating system's random generator");
            let sealed = cipher
                .encrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: clear.as_bytes(),
                        aad: &aad,
                    },
                )
                .expect("sealing in memory does not fail");
            B64.encode([&number[..], &nonce, &sealed].concat())
        });
    }

    /// Opens every personal field of `value`, sealed under `complaint`: a field whose key is
    /// shredded reads [`ERASED`].
    ///
    /// # Errors
    /// Why a field does not open (no such key, not a sealed value, wrong tag): damage.
    pub(crate) fn open<T: PersonalData>(
        &self,
        complaint: &ComplaintId,
        value: &mut T,
    ) -> Result<(), String> {
        if let Some(left) = &self.left_sealed {
            return value.try_map_personal(&mut |sealed| {
                left.fetch_add(1, Ordering::Relaxed);
                Ok(sealed.to_owned())
            });
        }
        // The lock is held to look a key up, not to decrypt: snapshots are read on every core.
        let aad = aad(complaint);
        let mut cipher: Option<(u64, XChaCha20Poly1305, bool)> = None;
        value.try_map_personal(&mut |sealed| {
            let bytes = B64
                .decode(sealed)
                .map_err(|_| format!("a sealed field of {complaint} is not base64"))?;
            if bytes.len() < 8 + NONCE {
                return Err(format!("a sealed field of {complaint} is too short"));
            }
            let number = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
            if cipher.as_ref().is_none_or(|(n, ..)| *n != number) {
                let (key, known) = {
                    let ring = self.ring();
                    let key = *ring.keys.get(&number).ok_or_else(|| {
                        format!("no key {number} for {complaint} in the key table")
                    })?;
                    (key, ring.owner.contains_key(&number))
                };
                let Some(key) = key else {
                    return Ok(ERASED.to_owned());
                };
                cipher = Some((number, XChaCha20Poly1305::new(&key.into()), known));
            }
            let (_, c, known) = cipher.as_mut().expect("set above");
            let clear = c
                .decrypt(
                    XNonce::from_slice(&bytes[8..8 + NONCE]),
                    Payload {
                        msg: &bytes[8 + NONCE..],
                        aad: &aad,
                    },
                )
                .map_err(|_| format!("a sealed field of {complaint} does not open"))?;
            if !*known {
                // Taken by this complaint: a taking replay learns (see the module docs).
                self.ring().learn(complaint, number);
                *known = true;
            }
            String::from_utf8(clear)
                .map_err(|_| format!("a sealed field of {complaint} is not text"))
        })
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
        keys.seal(&id("C-1"), &mut sealed);
        assert!(!sealed.name.contains("Zhang") && sealed.name != person().name);
        let mut other = sealed.clone();
        keys.seal(&id("C-2"), &mut Complainant { ..person() });
        // Moved to another complaint: its associated data differs, so it does not open.
        assert!(keys.open(&id("C-2"), &mut other).is_err());
        let mut opened = sealed.clone();
        keys.open(&id("C-1"), &mut opened).unwrap();
        assert_eq!(opened, person());
        // A flipped byte of the ciphertext does not open.
        let mut bytes = B64.decode(&sealed.name).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        let mut damaged = sealed.clone();
        damaged.name = B64.encode(bytes);
        assert!(keys.open(&id("C-1"), &mut damaged).is_err());
        // Shredded: it reads erased; a key never made is damage.
        keys.shred(&id("C-1"));
        let mut gone = sealed.clone();
        keys.open(&id("C-1"), &mut gone).unwrap();
        assert_eq!(gone.name, ERASED);
        assert!(
            Keys::default()
                .open(&id("C-1"), &mut sealed.clone())
                .is_err()
        );
        // Sealed anew after the shredding: a new key, which opens.
        let mut again = person();
        keys.seal(&id("C-1"), &mut again);
        keys.open(&id("C-1"), &mut again).unwrap();
        assert_eq!(again, person());
    }

    #[test]
    fn the_key_table_reads_back_what_it_wrote() {
        let mut table = Table::default();
        table.keys.insert(1, Some([7; 32]));
        table.keys.insert(2, None);
        table.owners.insert(id("C-1"), vec![1, 2]);
        let back = Table::decode(&table.encode()).unwrap();
        assert_eq!(back.keys, table.keys);
        assert_eq!(back.owners, table.owners);
        let bytes = table.encode();
        for cut in 0..bytes.len() {
            assert!(Table::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
