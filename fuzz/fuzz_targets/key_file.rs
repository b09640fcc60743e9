//! `MemberKey::from_key_file` and `OrganizationKey::from_key_file` on both suites, with a fixed
//! passphrase (the seeds use it, so mutations of the sealed part exercise the unlock path).
//!
//! Argon2 parameters are part of the input. The decoder accepts up to 1 GiB and 16 passes,
//! which would make single executions take seconds to minutes; inputs asking for more than the
//! minimum cost (8 MiB, 1 pass, 1 lane) are therefore only peeked at, not unlocked. Values
//! below the minimum still reach the decoder, which must reject them before any hashing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::cert::OrganizationKey;
use soshiki_core::keyfile::{peek_key_file, KdfParams, MemberKey};
use soshiki_core::suite::{Ristretto255, Suite, P256};

/// Passphrase of the seed key files (fuzz/examples/seeds.rs).
const PASSPHRASE: &[u8] = b"fuzz";

/// Argon2 cost named by the input: `magic[5] version suite[2] kind m_kib[4] t[4] p`.
fn cheap(data: &[u8]) -> bool {
    let u32_at = |o: usize| {
        data.get(o..o + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    match (u32_at(9), u32_at(13), data.get(17)) {
        (Some(m), Some(t), Some(p)) => {
            m <= KdfParams::MINIMUM.m_kib && t <= KdfParams::MINIMUM.t && *p <= KdfParams::MINIMUM.p
        }
        _ => true,
    }
}

fn check<S: Suite>(data: &[u8]) {
    if let Ok(k) = MemberKey::<S>::from_key_file(data, PASSPHRASE) {
        let id = k.identity();
        assert_eq!(id.certificate.encryption_key, *k.encryption.public_key());
    }
    let _ = OrganizationKey::<S>::from_key_file(data, PASSPHRASE);
}

fuzz_target!(|data: &[u8]| {
    let _ = peek_key_file(data);
    if cheap(data) {
        check::<P256>(data);
        check::<Ristretto255>(data);
    }
});
