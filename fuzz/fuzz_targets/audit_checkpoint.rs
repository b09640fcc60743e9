//! `AuditCheckpoint::from_bytes` on both suites: a decoded checkpoint re-encodes to its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::checkpoint::AuditCheckpoint;
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn check<S: Suite>(data: &[u8]) {
    if let Ok(c) = AuditCheckpoint::<S>::from_bytes(data) {
        assert_eq!(
            c.to_bytes(),
            data,
            "a decoded audit checkpoint must re-encode to its input"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    check::<P256>(data);
    check::<Ristretto255>(data);
});
