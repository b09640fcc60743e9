//! A bounded memo of signatures that verified.
//!
//! The same signatures are checked again and again: every parse of an envelope header checks
//! its organizations' self-signatures, every reader and forwarder checks the sender's
//! signature and the same certificates, and the server checks them on each request about the
//! same envelope. Verification is a deterministic function of public values, so once
//! `(suite, key, message, signature)` has verified, it verifies again; this memo remembers the
//! SHA-256 of that tuple and answers repeats without the elliptic-curve work.
//!
//! Only successful verifications are recorded, so a failing signature is always checked in
//! full. The entries are digests of public data (no secret is involved); the memo is bounded
//! ([`CAPACITY`] entries, 32 bytes each) and emptied when full.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use sha2::{Digest, Sha256};

/// Most remembered signatures (2 MiB of digests).
pub const CAPACITY: usize = 1 << 16;

static VERIFIED: LazyLock<Mutex<HashSet<[u8; 32]>>> =
    LazyLock::new(|| Mutex::new(HashSet::with_capacity(1024)));

/// The memo key of one verification.
fn key(suite: u16, verifying_key: &[u8], msg: &[u8], sig: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"soshiki verified signature v1");
    h.update(suite.to_be_bytes());
    h.update((verifying_key.len() as u64).to_be_bytes());
    h.update(verifying_key);
    h.update(Sha256::digest(msg));
    h.update((sig.len() as u64).to_be_bytes());
    h.update(sig);
    h.finalize().into()
}

/// `verify()` with the memo: a tuple that verified before is accepted without running
/// `verify`; a tuple that verifies now is remembered.
pub(crate) fn memoized(
    suite: u16,
    verifying_key: &[u8],
    msg: &[u8],
    sig: &[u8],
    verify: impl FnOnce() -> bool,
) -> bool {
    let k = key(suite, verifying_key, msg, sig);
    if VERIFIED.lock().is_ok_and(|m| m.contains(&k)) {
        return true;
    }
    let ok = verify();
    if ok {
        if let Ok(mut m) = VERIFIED.lock() {
            if m.len() >= CAPACITY {
                m.clear();
            }
            m.insert(k);
        }
    }
    ok
}

/// Forget every remembered signature (benchmarks measure verification itself with it).
pub fn forget_all() {
    if let Ok(mut m) = VERIFIED.lock() {
        m.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_successes_are_remembered_and_every_field_counts() {
        let mut calls = 0;
        let mut run = |s: u16, vk: &[u8], m: &[u8], sig: &[u8], answer: bool| {
            memoized(s, vk, m, sig, || {
                calls += 1;
                answer
            })
        };
        // A failure is never remembered: it is checked (and fails) every time.
        assert!(!run(1, b"memo-test-vk", b"m", b"sig-f", false));
        assert!(!run(1, b"memo-test-vk", b"m", b"sig-f", false));
        // A success is checked once, then answered from the memo.
        assert!(run(1, b"memo-test-vk", b"m", b"sig-ok", true));
        assert!(run(1, b"memo-test-vk", b"m", b"sig-ok", false));
        // Any other suite, key, message or signature is checked in full.
        assert!(!run(2, b"memo-test-vk", b"m", b"sig-ok", false));
        assert!(!run(1, b"memo-test-vk2", b"m", b"sig-ok", false));
        assert!(!run(1, b"memo-test-vk", b"m2", b"sig-ok", false));
        assert!(!run(1, b"memo-test-vk", b"m", b"sig-ok2", false));
        assert_eq!(calls, 7);
    }
}
