//! `split::ForwardResponse::from_bytes` on both suites: a decoded response re-encodes to its
//! input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::split::ForwardResponse;
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn check<S: Suite>(data: &[u8]) {
    if let Ok(r) = ForwardResponse::<S>::from_bytes(data) {
        assert_eq!(
            r.to_bytes(),
            data,
            "a decoded response must re-encode to its input"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    check::<P256>(data);
    check::<Ristretto255>(data);
});
