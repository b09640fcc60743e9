//! `split::ForwardingRequest::from_bytes` on both suites: a decoded request re-encodes to its
//! input, and the forwarder's `verify()` must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::split::ForwardingRequest;
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn check<S: Suite>(data: &[u8]) {
    if let Ok(r) = ForwardingRequest::<S>::from_bytes(data) {
        assert_eq!(
            r.to_bytes(),
            data,
            "a decoded request must re-encode to its input"
        );
        if let Ok(v) = r.verify() {
            for p in &v.request().parts {
                assert!(
                    v.holder(p.slot).is_some(),
                    "a verified request names a holder for every part"
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check::<P256>(data);
    check::<Ristretto255>(data);
});
