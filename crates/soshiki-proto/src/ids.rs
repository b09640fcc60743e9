//! Identifiers on the wire: certificate and organization ids are lower-case hex fingerprints,
//! and every encoded object names its suite in its 8-byte prefix.

use soshiki_core::cert::Fingerprint;
use soshiki_core::error::DecodeError;
use soshiki_core::suite::SuiteId;

/// Parse a 64-digit lower- or upper-case hex fingerprint.
pub fn parse_fingerprint(hex_text: &str) -> Option<Fingerprint> {
    let b = hex::decode(hex_text).ok()?;
    Some(Fingerprint(b.try_into().ok()?))
}

/// The suite named by an object's 8-byte prefix (`magic[5] ‖ version ‖ suite`), without decoding
/// it. `magic` is e.g. `b"SKORG"`, `b"SKCRT"`, `b"SKHDR"`, `b"SKACT"`.
pub fn peek_suite(bytes: &[u8], magic: &'static [u8]) -> Result<SuiteId, DecodeError> {
    soshiki_core::wire::peek_suite(bytes, magic, "object")
}
