//! `Hop::read` (and inside it the hop proof), `Capsule::read`, and the raw point and scalar
//! decoders, on both suites, through a `wire::Reader`. Whatever decodes re-encodes to exactly
//! the bytes it consumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soshiki_core::envelope::Hop;
use soshiki_core::scheme::{Capsule, HopProof};
use soshiki_core::suite::{Ristretto255, Suite, P256};
use soshiki_core::wire::{Reader, Writer};

fn check<S: Suite>(data: &[u8]) {
    let mut r = Reader::new(data);
    if let Ok(h) = Hop::<S>::read(&mut r) {
        let mut w = Writer::new();
        h.write(&mut w);
        assert_eq!(
            w.as_bytes(),
            &data[..r.position()],
            "a decoded hop must re-encode to its bytes"
        );
        let _ = h.share();
    }
    let mut r = Reader::new(data);
    if let Ok(p) = HopProof::<S>::read(&mut r) {
        let mut w = Writer::new();
        p.write(&mut w);
        assert_eq!(w.as_bytes(), &data[..r.position()]);
    }
    let mut r = Reader::new(data);
    if let Ok(c) = Capsule::<S>::read(&mut r) {
        let mut w = Writer::new();
        c.write(&mut w);
        assert_eq!(w.as_bytes(), &data[..r.position()]);
    }
    if let Some(b) = data.get(..S::POINT_LEN) {
        if let Ok(p) = S::point_from_bytes(b) {
            assert_eq!(S::point_to_bytes(&p), b, "one encoding per point");
            assert!(!S::is_identity(&p), "decoding never yields the identity");
        }
    }
    if let Some(b) = data.get(..32) {
        if let Ok(s) = S::scalar_from_bytes(b) {
            assert_eq!(&S::scalar_to_bytes(&s)[..], b, "one encoding per scalar");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check::<P256>(data);
    check::<Ristretto255>(data);
});
