//! `Certificate::from_bytes` on both suites: a decoded certificate re-encodes to its input, and
//! fingerprinting it must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::cert::Certificate;
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn check<S: Suite>(data: &[u8]) {
    if let Ok(c) = Certificate::<S>::from_bytes(data) {
        assert_eq!(
            c.to_bytes(),
            data,
            "a decoded certificate must re-encode to its input"
        );
        let _ = c.fingerprint();
        let _ = c.roles.names();
    }
}

fuzz_target!(|data: &[u8]| {
    check::<P256>(data);
    check::<Ristretto255>(data);
});
