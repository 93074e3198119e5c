//! Little-endian binary fields for run files: integers and length-prefixed byte strings.

/// Appends `v` (8 bytes, little-endian).
pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends `v` (4 bytes, little-endian).
pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends `bytes` after their length (2 bytes, little-endian; at most 65,535 bytes).
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).expect("keys and fields are shorter than 64 KiB");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Appends an optional string: a flag byte (0 none, 1 some), then the string if there is one.
pub(crate) fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_bytes(out, s.as_bytes());
        }
    }
}

/// Reads fields from the front of a byte slice; every read fails cleanly past the end.
#[derive(Debug)]
pub(crate) struct Take<'a>(pub(crate) &'a [u8]);

/// What a malformed field is reported as.
pub(crate) const SHORT: &str = "a field runs past the end of its node";

impl<'a> Take<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.0.len() < n {
            return Err(SHORT);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    /// The next `n` bytes as they are.
    pub(crate) fn raw(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        self.take(n)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn u32(&mut self) -> Result<u32, &'static str> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, &'static str> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], &'static str> {
        let len = u16::from_le_bytes(self.take(2)?.try_into().expect("2"));
        self.take(len as usize)
    }
    pub(crate) fn str(&mut self) -> Result<&'a str, &'static str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| "a string is not UTF-8")
    }
    pub(crate) fn opt(&mut self) -> Result<Option<&'a str>, &'static str> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            _ => Err("an optional field has a bad flag"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back_and_stop_at_the_end() {
        let mut out = Vec::new();
        put_u64(&mut out, 7);
        put_u32(&mut out, 9);
        put_bytes(&mut out, b"key");
        put_opt(&mut out, None);
        put_opt(&mut out, Some("tier"));
        let mut t = Take(&out);
        assert_eq!(t.u64(), Ok(7));
        assert_eq!(t.u32(), Ok(9));
        assert_eq!(t.bytes(), Ok(&b"key"[..]));
        assert_eq!(t.opt(), Ok(None));
        assert_eq!(t.opt(), Ok(Some("tier")));
        assert!(t.0.is_empty());
        assert_eq!(t.u8(), Err(SHORT));
        assert_eq!(Take(&out[..3]).u64(), Err(SHORT));
    }
}
