//! Ristretto255 (curve25519-dalek) with Ed25519 signatures (ed25519-dalek).

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity, MultiscalarMul, VartimeMultiscalarMul};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, Zeroizing};

use super::{SecretScalar, Suite, SuiteId};
use crate::error::DecodeError;

/// The Ristretto255 suite.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ristretto255;

/// A Ristretto255 scalar. Zeroized on drop; `Debug` never shows the value.
#[derive(Clone)]
pub struct RistrettoScalar(pub(crate) Scalar);

impl Zeroize for RistrettoScalar {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for RistrettoScalar {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl core::fmt::Debug for RistrettoScalar {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RistrettoScalar").finish_non_exhaustive()
    }
}

impl SecretScalar for RistrettoScalar {}

/// A validated Ristretto255 group element.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RistrettoElement(pub(crate) RistrettoPoint);

impl core::fmt::Debug for RistrettoElement {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "RistrettoElement({})",
            hex::encode(self.0.compress().as_bytes())
        )
    }
}

impl Suite for Ristretto255 {
    const ID: SuiteId = SuiteId::Ristretto255;
    const POINT_LEN: usize = 32;
    const SIG_PUBLIC_LEN: usize = 32;

    type Scalar = RistrettoScalar;
    type Point = RistrettoElement;
    type SigningKey = SigningKey;
    type VerifyingKey = VerifyingKey;

    fn random_scalar(rng: &mut impl CryptoRngCore) -> RistrettoScalar {
        loop {
            let mut wide = Zeroizing::new([0u8; 64]);
            rng.fill_bytes(&mut wide[..]);
            let s = Scalar::from_bytes_mod_order_wide(&wide);
            if s != Scalar::ZERO {
                return RistrettoScalar(s);
            }
        }
    }

    fn scalar_from_bytes(bytes: &[u8]) -> Result<RistrettoScalar, DecodeError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| DecodeError::InvalidScalar)?;
        let s: Option<Scalar> = Scalar::from_canonical_bytes(arr).into();
        match s {
            Some(s) if s != Scalar::ZERO => Ok(RistrettoScalar(s)),
            _ => Err(DecodeError::InvalidScalar),
        }
    }

    fn scalar_to_bytes(s: &RistrettoScalar) -> [u8; 32] {
        s.0.to_bytes()
    }

    fn scalar_from_wide(bytes: &[u8; 64]) -> RistrettoScalar {
        RistrettoScalar(Scalar::from_bytes_mod_order_wide(bytes))
    }

    fn scalar_add(a: &RistrettoScalar, b: &RistrettoScalar) -> RistrettoScalar {
        RistrettoScalar(a.0 + b.0)
    }

    fn scalar_mul(a: &RistrettoScalar, b: &RistrettoScalar) -> RistrettoScalar {
        RistrettoScalar(a.0 * b.0)
    }

    fn scalar_neg(a: &RistrettoScalar) -> RistrettoScalar {
        RistrettoScalar(-a.0)
    }

    fn scalar_eq(a: &RistrettoScalar, b: &RistrettoScalar) -> bool {
        use subtle::ConstantTimeEq;
        a.0.ct_eq(&b.0).into()
    }

    fn scalar_from_u64(v: u64) -> RistrettoScalar {
        RistrettoScalar(Scalar::from(v))
    }

    fn point_from_bytes(bytes: &[u8]) -> Result<RistrettoElement, DecodeError> {
        let c = CompressedRistretto::from_slice(bytes).map_err(|_| DecodeError::InvalidPoint)?;
        // `decompress` accepts only canonical encodings of valid Ristretto255 elements.
        let p = c.decompress().ok_or(DecodeError::InvalidPoint)?;
        if p.is_identity() {
            return Err(DecodeError::InvalidPoint);
        }
        Ok(RistrettoElement(p))
    }

    fn point_to_bytes(p: &RistrettoElement) -> Vec<u8> {
        p.0.compress().to_bytes().to_vec()
    }

    fn generator() -> RistrettoElement {
        RistrettoElement(curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT)
    }

    fn mul_base(s: &RistrettoScalar) -> RistrettoElement {
        RistrettoElement(&s.0 * RISTRETTO_BASEPOINT_TABLE)
    }

    fn mul(q: &RistrettoElement, s: &RistrettoScalar) -> RistrettoElement {
        RistrettoElement(q.0 * s.0)
    }

    fn mul2(
        q: &RistrettoElement,
        a: &RistrettoScalar,
        r: &RistrettoElement,
        b: &RistrettoScalar,
    ) -> RistrettoElement {
        RistrettoElement(RistrettoPoint::multiscalar_mul([a.0, b.0], [q.0, r.0]))
    }

    fn mul_base_add_vartime(
        a: &RistrettoScalar,
        q: &RistrettoElement,
        b: &RistrettoScalar,
    ) -> RistrettoElement {
        RistrettoElement(RistrettoPoint::vartime_double_scalar_mul_basepoint(
            &b.0, &q.0, &a.0,
        ))
    }

    fn multiscalar_mul_vartime(
        terms: &[(&RistrettoScalar, &RistrettoElement)],
    ) -> RistrettoElement {
        RistrettoElement(RistrettoPoint::vartime_multiscalar_mul(
            terms.iter().map(|(s, _)| s.0),
            terms.iter().map(|(_, p)| p.0),
        ))
    }

    fn add(q: &RistrettoElement, r: &RistrettoElement) -> RistrettoElement {
        RistrettoElement(q.0 + r.0)
    }

    fn sub(q: &RistrettoElement, r: &RistrettoElement) -> RistrettoElement {
        RistrettoElement(q.0 - r.0)
    }

    fn is_identity(q: &RistrettoElement) -> bool {
        q.0 == RistrettoPoint::identity()
    }

    fn lift_x(_x: &[u8]) -> Option<(RistrettoElement, RistrettoElement)> {
        None
    }

    fn x_coordinate(_q: &RistrettoElement) -> Option<Vec<u8>> {
        None
    }

    fn signing_key_generate(rng: &mut impl CryptoRngCore) -> SigningKey {
        SigningKey::generate(rng)
    }

    fn signing_key_from_bytes(bytes: &[u8]) -> Result<SigningKey, DecodeError> {
        let arr: Zeroizing<[u8; 32]> =
            Zeroizing::new(bytes.try_into().map_err(|_| DecodeError::InvalidKey)?);
        Ok(SigningKey::from_bytes(&arr))
    }

    fn signing_key_to_bytes(sk: &SigningKey) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(sk.to_bytes())
    }

    fn verifying_key(sk: &SigningKey) -> VerifyingKey {
        sk.verifying_key()
    }

    fn verifying_key_from_bytes(bytes: &[u8]) -> Result<VerifyingKey, DecodeError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| DecodeError::InvalidKey)?;
        let vk = VerifyingKey::from_bytes(&arr).map_err(|_| DecodeError::InvalidKey)?;
        // Reject small-order keys and non-canonical encodings (one encoding per key): the
        // decompression accepts a y-coordinate ≥ p and keeps the bytes as given, so compare
        // with the canonical re-encoding of the decompressed point (SPEC.md §3.2).
        let canonical = curve25519_dalek::edwards::CompressedEdwardsY(arr)
            .decompress()
            .map(|p| p.compress().to_bytes());
        if vk.is_weak() || canonical != Some(arr) {
            return Err(DecodeError::InvalidKey);
        }
        Ok(vk)
    }

    fn verifying_key_to_bytes(vk: &VerifyingKey) -> Vec<u8> {
        vk.to_bytes().to_vec()
    }

    fn sign(sk: &SigningKey, msg: &[u8], _rng: &mut impl CryptoRngCore) -> [u8; 64] {
        sk.sign(msg).to_bytes()
    }

    fn verify(vk: &VerifyingKey, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(arr) = <[u8; 64]>::try_from(sig) else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(&arr);
        vk.verify_strict(msg, &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::Suite;

    /// Encodings `y + p` (y < 19) of points whose canonical encoding is `y`: the same key
    /// spelled differently, which `ed25519-dalek` alone would accept.
    fn non_canonical_keys() -> Vec<[u8; 32]> {
        let mut out = Vec::new();
        for y in 2u8..19 {
            for sign in [0u8, 0x80] {
                let mut b = [0xffu8; 32];
                b[0] = 0xed + y;
                b[31] = 0x7f | sign;
                let mut canonical = [0u8; 32];
                canonical[0] = y;
                canonical[31] = sign;
                let point = curve25519_dalek::edwards::CompressedEdwardsY(b).decompress();
                if point.is_some_and(|p| !p.is_small_order()) {
                    assert_eq!(point.map(|p| p.compress().to_bytes()), Some(canonical));
                    out.push(b);
                }
            }
        }
        out
    }

    #[test]
    fn non_canonical_ed25519_verifying_keys_are_rejected() {
        let keys = non_canonical_keys();
        assert!(!keys.is_empty(), "some y < 19 lies on the curve");
        for k in keys {
            assert!(VerifyingKey::from_bytes(&k).is_ok(), "the crate accepts it");
            assert_eq!(
                Ristretto255::verifying_key_from_bytes(&k).err(),
                Some(DecodeError::InvalidKey)
            );
        }
    }
}
