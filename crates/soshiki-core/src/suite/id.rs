//! The suite identifier written in every serialized object (SPEC.md §2). A leaf module: the
//! error types name suites without depending on the suites themselves.

/// The numeric identifier of a suite, written in every serialized object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SuiteId {
    /// NIST P-256 with ECDSA P-256/SHA-256 signatures. The default.
    P256,
    /// Ristretto255 with Ed25519 signatures.
    Ristretto255,
}

impl SuiteId {
    /// Wire value.
    pub const fn to_u16(self) -> u16 {
        match self {
            SuiteId::P256 => 0x0001,
            SuiteId::Ristretto255 => 0x0002,
        }
    }

    /// Human-readable name, also accepted by [`SuiteId::from_name`].
    pub const fn name(self) -> &'static str {
        match self {
            SuiteId::P256 => "p256",
            SuiteId::Ristretto255 => "ristretto255",
        }
    }

    /// Parse a name as printed by [`SuiteId::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "p256" | "p-256" | "secp256r1" | "prime256v1" => Some(SuiteId::P256),
            "ristretto255" | "ristretto" => Some(SuiteId::Ristretto255),
            _ => None,
        }
    }
}
