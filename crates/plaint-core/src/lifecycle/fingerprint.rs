//! The fingerprint of a request — a command and the actor who gave it — that makes a command
//! id an idempotency key for that request only.

use super::Command;
use crate::actor::Actor;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The first 128 bits of the SHA-256 of a request's JSON form (the command, then the actor
/// with their kind, roles and department). Two requests share a fingerprint only if they are
/// the same request: a retry is answered from the store only when its fingerprint matches the
/// one recorded with the command id (as with Stripe's idempotency keys, the same key with a
/// different request is an error, not the old answer).
///
/// The JSON form is this release's: a retry sent across an upgrade that changed a command's
/// fields counts as a different request.
///
/// ```
/// use plaint_core::{Actor, ActorId, Command, Fingerprint};
/// let a = Actor::complainant(ActorId::new("cust-1")?);
/// let b = Actor::complainant(ActorId::new("cust-2")?);
/// let withdraw = Command::Withdraw { reason: None };
/// assert_eq!(Fingerprint::of(&withdraw, &a), Fingerprint::of(&withdraw, &a));
/// assert_ne!(Fingerprint::of(&withdraw, &a), Fingerprint::of(&withdraw, &b));
/// # Ok::<(), plaint_core::IdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// The fingerprint of `command` given by `actor`.
    pub fn of(command: &Command, actor: &Actor) -> Self {
        struct Hasher(Sha256);
        impl std::io::Write for Hasher {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.update(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut h = Hasher(Sha256::new());
        // Plain data with string keys: serialising into a hasher cannot fail, and if it
        // somehow did, what was written so far is still a deterministic digest.
        let _ = serde_json::to_writer(&mut h, &(command, actor));
        let digest = h.0.finalize();
        let mut out = [0; 16];
        out.copy_from_slice(&digest[..16]);
        Self(out)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> Self {
        f.to_string()
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let bad = || format!("a fingerprint is 32 hex digits, not {s:?}");
        if s.len() != 32 || !s.is_ascii() {
            return Err(bad());
        }
        let mut out = [0; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self(out))
    }
}
