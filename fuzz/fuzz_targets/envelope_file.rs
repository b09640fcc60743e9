//! `EnvelopeFile::open` over an in-memory file on both suites; on success, verifying the header
//! and checking every body's digest must not panic.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use soshiki_core::envelope::{check_body_digest, peek_file_suite, EnvelopeFile};
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn check<S: Suite>(data: &[u8]) {
    let mut src = Cursor::new(data);
    if let Ok(f) = EnvelopeFile::<S>::open(&mut src) {
        assert!(f.header_offset <= data.len() as u64);
        let _ = f.header.clone().verify();
        for b in f.header.bodies.clone() {
            let _ = check_body_digest(&f, &mut src, b);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = peek_file_suite(data);
    check::<P256>(data);
    check::<Ristretto255>(data);
});
