//! `MemberIdentity::from_bytes` on both suites: a decoded identity re-encodes to its input and
//! verifying it must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::keyfile::{peek_identity, MemberIdentity};
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn check<S: Suite>(data: &[u8]) {
    if let Ok(id) = MemberIdentity::<S>::from_bytes(data) {
        assert_eq!(
            id.to_bytes(),
            data,
            "a decoded identity must re-encode to its input"
        );
        let now = id.certificate.not_before;
        let _ = id.verify(now);
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = peek_identity(data);
    check::<P256>(data);
    check::<Ristretto255>(data);
});
