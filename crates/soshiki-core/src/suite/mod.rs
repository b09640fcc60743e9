//! Cipher suites: a prime-order group, its encodings and its standard signature scheme.
//!
//! Everything above this module (capsules, re-encryption, proofs, envelopes) is written once,
//! generically over [`Suite`]. Two suites exist:
//!
//! | id       | group         | points on the wire           | scalars                    | signatures          |
//! |----------|---------------|------------------------------|----------------------------|---------------------|
//! | `0x0001` | P-256         | SEC1 compressed, 33 bytes    | 32 bytes big-endian        | ECDSA P-256 SHA-256 |
//! | `0x0002` | Ristretto255  | canonical encoding, 32 bytes | 32 bytes little-endian     | Ed25519             |
//!
//! Threat model (decoding): every point read from the wire is validated (on the curve, in the
//! prime-order group, not the identity) and every scalar is canonical and non-zero; the decoders
//! here are the only way to build a point or scalar from bytes. See THREAT_MODEL.md, "T4".

use core::fmt::Debug;

use rand_core::CryptoRngCore;
use zeroize::Zeroize;

use crate::error::DecodeError;

pub mod p256;
pub mod ristretto;

pub mod id;
pub use self::id::SuiteId;
pub use self::p256::P256;
pub use self::ristretto::Ristretto255;

impl SuiteId {
    /// Parse a wire value.
    pub fn from_u16(v: u16) -> Result<Self, DecodeError> {
        match v {
            0x0001 => Ok(SuiteId::P256),
            0x0002 => Ok(SuiteId::Ristretto255),
            other => Err(DecodeError::UnknownSuite(other)),
        }
    }
}

impl core::fmt::Display for SuiteId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A scalar that may hold a secret. Implementations zeroize on drop and never print their value.
pub trait SecretScalar: Clone + Zeroize + Send + Sync + Debug {}

/// A prime-order group with the operations the scheme needs.
///
/// Constant-time unless the name ends in `_vartime`; `_vartime` functions take only public
/// inputs (verification).
pub trait Suite: Copy + Clone + Debug + Default + PartialEq + Eq + Send + Sync + 'static {
    /// The suite identifier written on the wire.
    const ID: SuiteId;
    /// Encoded point length in bytes.
    const POINT_LEN: usize;
    /// Encoded signature-verification-key length in bytes.
    const SIG_PUBLIC_LEN: usize;
    /// Encoded signature length in bytes.
    const SIGNATURE_LEN: usize = 64;

    /// A scalar modulo the group order.
    type Scalar: SecretScalar;
    /// A group element. Always valid: in the prime-order group. Only ever the identity as the
    /// (negligibly likely) result of arithmetic, never from decoding.
    type Point: Clone + PartialEq + Eq + Send + Sync + Debug;
    /// The standard signature scheme's secret key (zeroized on drop).
    type SigningKey: Send + Sync;
    /// The standard signature scheme's public key.
    type VerifyingKey: Clone + PartialEq + Eq + Send + Sync + Debug;

    // ----- scalars -----
    /// A uniformly random non-zero scalar.
    fn random_scalar(rng: &mut impl CryptoRngCore) -> Self::Scalar;
    /// Decode a canonical, non-zero scalar (32 bytes).
    fn scalar_from_bytes(bytes: &[u8]) -> Result<Self::Scalar, DecodeError>;
    /// Encode a scalar (32 bytes; the caller must treat the result as secret when it is).
    fn scalar_to_bytes(s: &Self::Scalar) -> [u8; 32];
    /// Reduce 64 uniformly random bytes (a SHA-512 output) to a scalar.
    /// P-256 reads them as a big-endian integer, Ristretto255 as little-endian.
    fn scalar_from_wide(bytes: &[u8; 64]) -> Self::Scalar;
    /// `a + b`
    fn scalar_add(a: &Self::Scalar, b: &Self::Scalar) -> Self::Scalar;
    /// `a · b`
    fn scalar_mul(a: &Self::Scalar, b: &Self::Scalar) -> Self::Scalar;
    /// `−a`
    fn scalar_neg(a: &Self::Scalar) -> Self::Scalar;
    /// Constant-time equality.
    fn scalar_eq(a: &Self::Scalar, b: &Self::Scalar) -> bool;
    /// The scalar with small integer value `v`.
    fn scalar_from_u64(v: u64) -> Self::Scalar;

    // ----- points -----
    /// Decode and validate a point: canonical, in the prime-order group, not the identity.
    fn point_from_bytes(bytes: &[u8]) -> Result<Self::Point, DecodeError>;
    /// Encode a point (`POINT_LEN` bytes).
    fn point_to_bytes(p: &Self::Point) -> Vec<u8>;
    /// The standard base point `P`.
    fn generator() -> Self::Point;
    /// `s·P` for the base point (constant time, precomputed tables where the backend has them).
    fn mul_base(s: &Self::Scalar) -> Self::Point;
    /// `s·Q` (constant time).
    fn mul(q: &Self::Point, s: &Self::Scalar) -> Self::Point;
    /// `a·Q + b·R` (constant time).
    fn mul2(q: &Self::Point, a: &Self::Scalar, r: &Self::Point, b: &Self::Scalar) -> Self::Point;
    /// `a·P + b·Q` for the base point `P`, variable time; public inputs only (verification).
    fn mul_base_add_vartime(a: &Self::Scalar, q: &Self::Point, b: &Self::Scalar) -> Self::Point;
    /// `Σ sᵢ·Qᵢ`, variable time; public inputs only (verification).
    fn multiscalar_mul_vartime(terms: &[(&Self::Scalar, &Self::Point)]) -> Self::Point;
    /// `Q + R`
    fn add(q: &Self::Point, r: &Self::Point) -> Self::Point;
    /// `Q − R`
    fn sub(q: &Self::Point, r: &Self::Point) -> Self::Point;
    /// Whether `Q` is the identity.
    fn is_identity(q: &Self::Point) -> bool;

    /// For key holders that return only an x-coordinate (ECDH on smart cards, PKCS#11 tokens,
    /// WebCrypto): the two points with that x-coordinate, or `None` if there are none or the
    /// suite has no such notion (Ristretto255).
    fn lift_x(x: &[u8]) -> Option<(Self::Point, Self::Point)>;
    /// The affine x-coordinate, for suites that have one.
    fn x_coordinate(q: &Self::Point) -> Option<Vec<u8>>;

    // ----- the suite's standard signature scheme -----
    /// Generate a signing key.
    fn signing_key_generate(rng: &mut impl CryptoRngCore) -> Self::SigningKey;
    /// Decode a signing key from its 32-byte secret encoding.
    fn signing_key_from_bytes(bytes: &[u8]) -> Result<Self::SigningKey, DecodeError>;
    /// Encode a signing key (secret!).
    fn signing_key_to_bytes(sk: &Self::SigningKey) -> zeroize::Zeroizing<[u8; 32]>;
    /// The verification key of a signing key.
    fn verifying_key(sk: &Self::SigningKey) -> Self::VerifyingKey;
    /// Decode a verification key (`SIG_PUBLIC_LEN` bytes).
    fn verifying_key_from_bytes(bytes: &[u8]) -> Result<Self::VerifyingKey, DecodeError>;
    /// Encode a verification key.
    fn verifying_key_to_bytes(vk: &Self::VerifyingKey) -> Vec<u8>;
    /// Sign `msg`. ECDSA uses RFC 6979 nonces hedged with `rng`; Ed25519 is deterministic.
    fn sign(sk: &Self::SigningKey, msg: &[u8], rng: &mut impl CryptoRngCore) -> [u8; 64];
    /// Verify a signature; `false` for any malformed input.
    fn verify(vk: &Self::VerifyingKey, msg: &[u8], sig: &[u8]) -> bool;
}

/// Run generic code for the suite named by a runtime [`SuiteId`].
///
/// ```
/// use soshiki_core::{with_suite, suite::{Suite, SuiteId}};
/// fn point_len<S: Suite>() -> usize { S::POINT_LEN }
/// let n = with_suite!(SuiteId::P256, S => point_len::<S>());
/// assert_eq!(n, 33);
/// ```
#[macro_export]
macro_rules! with_suite {
    ($id:expr, $S:ident => $body:expr) => {
        match $id {
            $crate::suite::SuiteId::P256 => {
                type $S = $crate::suite::P256;
                $body
            }
            $crate::suite::SuiteId::Ristretto255 => {
                type $S = $crate::suite::Ristretto255;
                $body
            }
        }
    };
}
