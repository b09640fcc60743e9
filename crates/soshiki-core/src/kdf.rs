//! Key derivation from a capsule's point (SPEC.md §6.1).
//!
//! ```text
//! prk        = HKDF-Extract(salt = "soshiki/v1/slot" ‖ suite ‖ envelope_id, ikm = encode(M))
//! key        = HKDF-Expand(prk, "soshiki/v1/slot-key"   ‖ u32(slot), 32)
//! commitment = HKDF-Expand(prk, "soshiki/v1/commitment" ‖ u32(slot), 32)
//! ```
//! The key encrypts the slot's data (a part's body, or the routing metadata). The commitment is
//! in the sender-signed header: a capsule that opens to another point is rejected before any
//! plaintext is produced, and one ciphertext cannot open under two keys (AES-GCM alone is not
//! key-committing).

use hkdf::Hkdf;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::envelope::slot::SlotId;
use crate::suite::Suite;

/// Keys derived for one slot.
pub struct SlotKeys {
    /// The AES-256-GCM key.
    pub key: Zeroizing<[u8; 32]>,
    /// The public key commitment.
    pub commitment: [u8; 32],
}

impl core::fmt::Debug for SlotKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SlotKeys")
            .field("commitment", &hex::encode(self.commitment))
            .finish_non_exhaustive()
    }
}

impl SlotKeys {
    /// Whether `commitment` matches, in constant time.
    pub fn commitment_matches(&self, commitment: &[u8; 32]) -> bool {
        self.commitment.ct_eq(commitment).into()
    }
}

/// Derive a slot's keys from the capsule point `M`.
pub fn derive_slot_keys<S: Suite>(m: &S::Point, envelope_id: &[u8; 16], slot: SlotId) -> SlotKeys {
    let mut salt = b"soshiki/v1/slot".to_vec();
    salt.extend_from_slice(&S::ID.to_u16().to_be_bytes());
    salt.extend_from_slice(envelope_id);
    let ikm = Zeroizing::new(S::point_to_bytes(m));
    let hk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let mut key = Zeroizing::new([0u8; 32]);
    let mut commitment = [0u8; 32];
    let info = |label: &[u8]| {
        let mut v = label.to_vec();
        v.extend_from_slice(&slot.to_wire().to_be_bytes());
        v
    };
    // 32 bytes is always a valid HKDF-SHA256 output length.
    #[allow(clippy::expect_used)]
    {
        hk.expand(&info(b"soshiki/v1/slot-key"), &mut key[..])
            .expect("valid length");
        hk.expand(&info(b"soshiki/v1/commitment"), &mut commitment)
            .expect("valid length");
    }
    SlotKeys { key, commitment }
}
