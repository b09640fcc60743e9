//! `EnvelopeHeader::from_bytes` on both suites. A header that decodes must re-encode to exactly
//! the input (one encoding per header), and verifying it must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::envelope::EnvelopeHeader;
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn check<S: Suite>(data: &[u8]) {
    if let Ok(h) = EnvelopeHeader::<S>::from_bytes(data) {
        assert_eq!(
            h.to_bytes(),
            data,
            "a decoded header must re-encode to its input"
        );
        let _ = h.verify();
    }
}

fuzz_target!(|data: &[u8]| {
    check::<P256>(data);
    check::<Ristretto255>(data);
});
