//! Domain-separated hashing (SPEC.md §3.1).
//!
//! `H(label; x₁, …, xₙ) = SHA-512( u16(len(tag)) ‖ tag ‖ u32(len(x₁)) ‖ x₁ ‖ … )` with
//! `tag = "soshiki/v1/" ‖ label`. Every hash in the protocol has its own label.

use sha2::{Digest, Sha256, Sha512};

use crate::suite::Suite;

/// The protocol's domain prefix.
pub const DOMAIN: &str = "soshiki/v1/";

fn tagged<D: Digest>(label: &str, items: &[&[u8]]) -> D {
    let mut h = D::new();
    let tag_len = (DOMAIN.len() + label.len()) as u16;
    h.update(tag_len.to_be_bytes());
    h.update(DOMAIN.as_bytes());
    h.update(label.as_bytes());
    for item in items {
        h.update((item.len() as u32).to_be_bytes());
        h.update(item);
    }
    h
}

/// `H` reduced to a scalar of suite `S` (SHA-512, then [`Suite::scalar_from_wide`]).
pub fn hash_to_scalar<S: Suite>(label: &str, items: &[&[u8]]) -> S::Scalar {
    let out = tagged::<Sha512>(label, items).finalize();
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&out);
    S::scalar_from_wide(&wide)
}

/// `H` with SHA-256, 32 bytes (digests and fingerprints).
pub fn digest256(label: &str, items: &[&[u8]]) -> [u8; 32] {
    tagged::<Sha256>(label, items).finalize().into()
}
