//! The digests both sides compute: SHA-256, the audit chain hash, and the length-prefixed
//! digests an action statement signs for a `forward` and a `set-rules` (see [`crate::action`]).
//!
//! The audit trail chains entries per organization:
//! `hash = SHA-256(prev_hash ‖ u64(seq) ‖ entry)` ([`audit_hash`]), the first `prev_hash` all
//! zeros; an entry is an [`ActionStatement`](crate::ActionStatement) encoding.

use sha2::{Digest, Sha256};

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The audit chain hash: `SHA-256(prev_hash ‖ u64(seq) ‖ entry)`.
pub fn audit_hash(prev_hash: &[u8; 32], seq: u64, entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev_hash);
    h.update(seq.to_be_bytes());
    h.update(entry);
    h.finalize().into()
}

/// Digest of the forward responses of one `forward` action:
/// `SHA-256(u32(count) ‖ (u32(len) ‖ response)…)`.
pub fn forward_digest(responses: &[Vec<u8>]) -> [u8; 32] {
    length_prefixed_digest(responses.iter().map(|r| r.as_slice()))
}

/// Digest of a forwarder's rules: `SHA-256(u32(count) ‖ (u32(len) ‖ rule)…)`.
pub fn rules_digest(rules: &[String]) -> [u8; 32] {
    length_prefixed_digest(rules.iter().map(|r| r.as_bytes()))
}

fn length_prefixed_digest<'a>(items: impl ExactSizeIterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((items.len() as u32).to_be_bytes());
    for i in items {
        h.update((i.len() as u32).to_be_bytes());
        h.update(i);
    }
    h.finalize().into()
}
