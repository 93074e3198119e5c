//! Bloom filters: which keys a run may hold, so that looking up a key a run does not hold
//! (every new complaint id and command id) usually reads nothing from it.
//!
//! 10 bits and 7 probes per key (about 1 % false positives). A key's probes come from one
//! 64-bit hash (FNV-1a, then the SplitMix64 finaliser), split into two halves `h1`, `h2`:
//! probe `i` is bit `(h1 + i·h2) mod m`. The encoding is `[bits: u64 LE][the bit array]`.

use crate::codec::{self, Take};

const BITS_PER_KEY: u64 = 10;
const PROBES: u64 = 7;

/// A Bloom filter over byte strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bloom {
    bits: Vec<u8>,
}

fn hash(domain: u8, key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in std::iter::once(&domain).chain(key) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // SplitMix64's finaliser spreads FNV's weak low bits.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl Bloom {
    /// An empty filter sized for `keys` keys (at most a frame's worth: past 200 million keys
    /// it answers "maybe" more often).
    pub(crate) fn with_capacity(keys: u64) -> Self {
        let most = (crate::frame::MAX_PAYLOAD as u64 - 64) * 8;
        let bits = keys.saturating_mul(BITS_PER_KEY).clamp(64, most);
        Self {
            bits: vec![0; bits.div_ceil(8) as usize],
        }
    }

    /// The bit positions of `key` in the kind of keys `domain` (a filter holds several kinds).
    fn probes(&self, domain: u8, key: &[u8]) -> impl Iterator<Item = usize> + use<> {
        let m = self.bits.len() as u64 * 8;
        let h = hash(domain, key);
        let (h1, h2) = (h & 0xffff_ffff, (h >> 32) | 1);
        (0..PROBES).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) % m) as usize)
    }

    pub(crate) fn insert(&mut self, domain: u8, key: &[u8]) {
        for p in self.probes(domain, key) {
            self.bits[p / 8] |= 1 << (p % 8);
        }
    }

    /// False only if `key` was never inserted under `domain`.
    pub(crate) fn may_hold(&self, domain: u8, key: &[u8]) -> bool {
        self.probes(domain, key)
            .all(|p| self.bits[p / 8] & (1 << (p % 8)) != 0)
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bits.len() + 9);
        codec::put_u64(&mut out, self.bits.len() as u64 * 8);
        out.extend_from_slice(&self.bits);
        out
    }

    pub(crate) fn decode(data: &[u8]) -> Result<Self, &'static str> {
        let mut t = Take(data);
        let bits = t.u64()?;
        if bits == 0 || bits % 8 != 0 || bits / 8 != t.0.len() as u64 {
            return Err("a filter's size disagrees with its bits");
        }
        Ok(Self { bits: t.0.to_vec() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_went_in_and_rarely_what_did_not() {
        let mut b = Bloom::with_capacity(10_000);
        for i in 0..10_000 {
            b.insert(b'c', format!("in-{i}").as_bytes());
        }
        let b = Bloom::decode(&b.encode()).unwrap();
        assert!((0..10_000).all(|i| b.may_hold(b'c', format!("in-{i}").as_bytes())));
        let false_positives = (0..10_000)
            .filter(|i| b.may_hold(b'c', format!("out-{i}").as_bytes()))
            .chain((0..10_000).filter(|i| b.may_hold(b'm', format!("in-{i}").as_bytes())))
            .count();
        // 20,000 absent keys at about 1 %.
        assert!(false_positives < 500, "{false_positives} false positives");
        assert!(Bloom::decode(&[1, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
