//! `Metadata::from_bytes`: decoded routing metadata re-encodes to its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::envelope::Metadata;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Metadata::from_bytes(data) {
        assert_eq!(
            m.to_bytes(),
            data,
            "decoded metadata must re-encode to its input"
        );
        assert_eq!(Metadata::from_bytes(&m.to_bytes()).ok(), Some(m));
    }
});
