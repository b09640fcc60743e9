//! Identifiers on the wire: certificate and organization ids are lower-case hex fingerprints.
//! (An encoded object's suite is read from its 8-byte prefix with
//! `soshiki_core::wire::Frame::peek_suite`.)

use soshiki_core::cert::Fingerprint;

/// Parse a 64-digit lower- or upper-case hex fingerprint.
pub fn parse_fingerprint(hex_text: &str) -> Option<Fingerprint> {
    let b = hex::decode(hex_text).ok()?;
    Some(Fingerprint(b.try_into().ok()?))
}
