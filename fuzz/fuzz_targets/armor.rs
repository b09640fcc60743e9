//! `armor::decode`: whatever decodes, re-armored, decodes to the same kind and bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::armor;

fuzz_target!(|data: &[u8]| {
    let _ = armor::is_armored(data);
    if let Ok((kind, bytes)) = armor::decode(data) {
        let again = armor::encode(&kind, &bytes);
        assert_eq!(
            armor::decode(again.as_bytes()),
            Ok((kind, bytes)),
            "armor must round-trip"
        );
    }
});
