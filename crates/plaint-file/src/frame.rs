//! File headers and frames: `[len: u32 LE][crc32c(payload): u32 LE][payload]`, and the scan
//! that tells a torn tail from damage.

use crate::error::FileError;
use crate::fs::WriteFile;
use std::ops::Range;
use std::path::Path;

/// Bytes in a file header: 8 bytes of magic, the format version, 4 reserved zero bytes.
pub(crate) const HEADER_LEN: usize = 16;
/// Bytes before a frame's payload.
pub(crate) const FRAME_OVERHEAD: usize = 8;
/// The largest payload a frame may carry.
pub(crate) const MAX_PAYLOAD: usize = 256 << 20;

/// A kind of file: its magic and the newest format version of it this build reads (and the
/// one it writes). Every older version, from 1, is read too.
#[derive(Debug)]
pub(crate) struct Kind {
    pub(crate) magic: &'static [u8; 8],
    pub(crate) version: u32,
}

/// A log segment. Version 2 ends every segment that has a successor with a frame naming it
/// (see `record::Next`); version 1 (plaint 0.1.0) has no such frame. Version 3 seals personal
/// fields (`seal`; its frames' encoding byte is 3), version 4 staff texts too (encoding 4, and
/// records may carry a redaction's rewrite).
pub(crate) const SEGMENT: Kind = Kind {
    magic: b"PLAINTLG",
    version: 4,
};
/// A snapshot. Version 2 seals personal fields, version 3 staff texts too.
pub(crate) const SNAPSHOT: Kind = Kind {
    magic: b"PLAINTSN",
    version: 3,
};
/// A run. Version 2 seals personal fields, version 3 staff texts too (a merged run may hold
/// states and histories copied from older versions: each frame's encoding byte says which).
pub(crate) const RUN: Kind = Kind {
    magic: b"PLAINTRN",
    version: 3,
};

/// The header of a new file of `kind` (its newest version).
pub(crate) fn header(kind: &Kind) -> [u8; HEADER_LEN] {
    header_of(kind, kind.version)
}

fn header_of(kind: &Kind, version: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(kind.magic);
    h[8..12].copy_from_slice(&version.to_le_bytes());
    h
}

/// Whether `data` is the start of a header of `kind` (of any version it reads) cut short, or
/// a whole one: a file created whose header never became durable whole.
pub(crate) fn header_prefix(data: &[u8], kind: &Kind) -> bool {
    data.len() <= HEADER_LEN && (1..=kind.version).any(|v| header_of(kind, v).starts_with(data))
}

/// Whether `data` is a header of `kind` cut short: a file created whose header never became
/// durable, so nothing was written to it.
pub(crate) fn header_cut_short(data: &[u8], kind: &Kind) -> bool {
    data.len() < HEADER_LEN && header_prefix(data, kind)
}

/// Checks a file's header; returns its format version.
pub(crate) fn check_header(data: &[u8], kind: &Kind, file: &Path) -> Result<u32, FileError> {
    if data.len() < HEADER_LEN || &data[..8] != kind.magic {
        return Err(FileError::corrupt(
            file,
            0,
            "not a plaint-file file of this kind (bad header)",
        ));
    }
    let version = u32::from_le_bytes(data[8..12].try_into().expect("4 bytes"));
    if version == 0 || version > kind.version {
        return Err(FileError::UnsupportedFormat {
            file: file.to_path_buf(),
            found: version,
            supported: kind.version,
        });
    }
    Ok(version)
}

/// Appends one frame carrying `payload` to `out`.
pub(crate) fn encode(payload: &[u8], out: &mut Vec<u8>) {
    debug_assert!(!payload.is_empty() && payload.len() <= MAX_PAYLOAD);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Writes frames (and raw bytes) to a new file through a buffer, telling where each lands.
pub(crate) struct Writer<'f> {
    file: &'f mut dyn WriteFile,
    path: &'f Path,
    out: Vec<u8>,
    flushed: u64,
}

impl<'f> Writer<'f> {
    /// A writer for `file`, which already holds `at` bytes (its header).
    pub(crate) fn new(file: &'f mut dyn WriteFile, path: &'f Path, at: u64) -> Self {
        Self {
            file,
            path,
            out: Vec::with_capacity(1 << 20),
            flushed: at,
        }
    }

    /// The offset the next byte lands at.
    pub(crate) fn at(&self) -> u64 {
        self.flushed + self.out.len() as u64
    }

    /// Writes one frame carrying `payload`; returns its offset and its length (header
    /// included).
    pub(crate) fn frame(&mut self, payload: &[u8]) -> Result<(u64, u32), FileError> {
        let at = self.at();
        encode(payload, &mut self.out);
        let len = (payload.len() + FRAME_OVERHEAD) as u32;
        self.spill()?;
        Ok((at, len))
    }

    /// Writes bytes as they are (frames copied from another file); returns their offset.
    pub(crate) fn raw(&mut self, bytes: &[u8]) -> Result<u64, FileError> {
        let at = self.at();
        self.out.extend_from_slice(bytes);
        self.spill()?;
        Ok(at)
    }

    fn spill(&mut self) -> Result<(), FileError> {
        if self.out.len() >= 1 << 20 {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands everything buffered to the file.
    pub(crate) fn flush(&mut self) -> Result<(), FileError> {
        self.file
            .write_all(&self.out)
            .map_err(FileError::io("write", self.path))?;
        self.flushed += self.out.len() as u64;
        self.out.clear();
        Ok(())
    }
}

/// What a scan found after the header.
#[derive(Debug)]
pub(crate) struct Scan {
    /// The payloads of the valid frames, in order (ranges into the data).
    pub(crate) frames: Vec<Range<usize>>,
    /// Where the first invalid frame starts, if one does, and what is wrong with it.
    pub(crate) bad: Option<(usize, &'static str)>,
}

impl Scan {
    /// Whether the invalid frame, if any, is a torn tail: nothing valid follows it, so it can
    /// only be the last write, cut short by a crash. A valid frame after it means the damage is
    /// in data that was written before later data: corruption, never a torn write.
    pub(crate) fn torn_tail(&self, data: &[u8]) -> bool {
        self.bad.is_some_and(|(at, _)| !any_frame_after(data, at))
    }
}

/// Reads frames from `data[HEADER_LEN..]` until the end or the first invalid frame.
pub(crate) fn scan(data: &[u8]) -> Scan {
    let mut frames = Vec::new();
    let mut at = HEADER_LEN;
    while at < data.len() {
        match frame_at(data, at) {
            Ok(payload) => {
                at = payload.end;
                frames.push(payload);
            }
            Err(why) => {
                return Scan {
                    frames,
                    bad: Some((at, why)),
                };
            }
        }
    }
    Scan { frames, bad: None }
}

/// The payload of a valid frame starting at `at`.
pub(crate) fn frame_at(data: &[u8], at: usize) -> Result<Range<usize>, &'static str> {
    let Some(head) = data.get(at..at + FRAME_OVERHEAD) else {
        return Err("frame header cut short");
    };
    let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
    if len == 0 || len > MAX_PAYLOAD {
        return Err("impossible frame length");
    }
    let start = at + FRAME_OVERHEAD;
    let Some(payload) = data.get(start..start + len) else {
        return Err("frame cut short");
    };
    if crc32c::crc32c(payload) != crc {
        return Err("checksum mismatch");
    }
    Ok(start..start + len)
}

/// Whether a valid frame starts anywhere after `at`.
fn any_frame_after(data: &[u8], at: usize) -> bool {
    (at + 1..data.len().saturating_sub(FRAME_OVERHEAD)).any(|i| frame_at(data, i).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(frames: &[&[u8]]) -> Vec<u8> {
        let mut out = header(&SEGMENT).to_vec();
        frames.iter().for_each(|f| encode(f, &mut out));
        out
    }

    #[test]
    fn frames_read_back() {
        let data = file(&[b"one", b"two"]);
        let scan = scan(&data);
        let got: Vec<&[u8]> = scan.frames.iter().map(|r| &data[r.clone()]).collect();
        assert_eq!(got, [b"one".as_slice(), b"two"]);
        assert!(scan.bad.is_none());
    }

    #[test]
    fn a_cut_last_frame_is_a_torn_tail() {
        let whole = file(&[b"one", b"two"]);
        for cut in whole.len() - 10..whole.len() {
            let data = &whole[..cut];
            let scan = scan(data);
            assert_eq!(scan.frames.len(), 1, "cut at {cut}");
            assert!(scan.torn_tail(data), "cut at {cut}");
        }
    }

    #[test]
    fn zeros_after_the_last_frame_are_a_torn_tail() {
        let mut data = file(&[b"one"]);
        data.extend([0u8; 100]);
        let scan = scan(&data);
        assert_eq!(scan.bad.map(|b| b.1), Some("impossible frame length"));
        assert!(scan.torn_tail(&data));
    }

    #[test]
    fn a_flipped_bit_before_a_valid_frame_is_corruption() {
        let mut data = file(&[b"one", b"two", b"three"]);
        data[HEADER_LEN + FRAME_OVERHEAD + 1] ^= 0x10;
        let scan = scan(&data);
        assert_eq!(scan.bad, Some((HEADER_LEN, "checksum mismatch")));
        assert!(!scan.torn_tail(&data));
    }

    #[test]
    fn a_flipped_bit_in_the_last_frame_counts_as_torn() {
        let mut data = file(&[b"one", b"two"]);
        let last = data.len() - 1;
        data[last] ^= 1;
        assert!(scan(&data).torn_tail(&data));
    }

    #[test]
    fn headers_are_checked() {
        let p = Path::new("x");
        assert_eq!(check_header(&header(&SEGMENT), &SEGMENT, p).unwrap(), 4);
        assert_eq!(
            check_header(&header_of(&SEGMENT, 2), &SEGMENT, p).unwrap(),
            2
        );
        assert_eq!(
            check_header(&header_of(&SEGMENT, 1), &SEGMENT, p).unwrap(),
            1
        );
        assert!(matches!(
            check_header(&header(&SNAPSHOT), &SEGMENT, p),
            Err(FileError::Corrupt { offset: 0, .. })
        ));
        for version in [0, 5, 9] {
            let h = header_of(&SEGMENT, version);
            assert!(matches!(
                check_header(&h, &SEGMENT, p),
                Err(FileError::UnsupportedFormat { found, supported: 4, .. }) if found == version
            ));
        }
        let h = header_of(&RUN, 4);
        assert!(matches!(
            check_header(&h, &RUN, p),
            Err(FileError::UnsupportedFormat {
                found: 4,
                supported: 3,
                ..
            })
        ));
    }

    #[test]
    fn header_prefixes() {
        let h = header(&SEGMENT);
        for n in 0..=HEADER_LEN {
            assert!(header_prefix(&h[..n], &SEGMENT), "{n}");
        }
        assert!(header_prefix(&header_of(&SEGMENT, 1), &SEGMENT));
        assert!(!header_prefix(&header(&SNAPSHOT), &SEGMENT));
        let mut longer = h.to_vec();
        longer.push(0);
        assert!(!header_prefix(&longer, &SEGMENT));
    }
}
