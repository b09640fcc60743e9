//! `Organization::from_bytes` (which checks the self-signature) on both suites: a decoded
//! record re-encodes to its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::cert::Organization;
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn check<S: Suite>(data: &[u8]) {
    if let Ok(o) = Organization::<S>::from_bytes(data) {
        assert_eq!(
            o.to_bytes(),
            data,
            "a decoded organization must re-encode to its input"
        );
        let _ = o.fingerprint().display_short();
    }
}

fuzz_target!(|data: &[u8]| {
    check::<P256>(data);
    check::<Ristretto255>(data);
});
