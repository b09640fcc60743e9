//! [`B64`]: binary values in JSON bodies, standard base64 with padding.

use base64::Engine;
use serde::{Deserialize, Serialize};

/// Bytes carried in JSON as standard base64 with padding.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct B64(pub Vec<u8>);

impl B64 {
    /// Encode bytes as base64 text.
    pub fn encode(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }
    /// Decode base64 text.
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD.decode(s).ok()
    }
}

impl core::fmt::Debug for B64 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "B64({} bytes)", self.0.len())
    }
}

impl From<Vec<u8>> for B64 {
    fn from(v: Vec<u8>) -> Self {
        B64(v)
    }
}

impl Serialize for B64 {
    fn serialize<Se: serde::Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
        s.serialize_str(&B64::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for B64 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        B64::decode(&s)
            .map(B64)
            .ok_or_else(|| serde::de::Error::custom("invalid base64"))
    }
}
