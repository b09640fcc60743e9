//! NIST P-256 with ECDSA P-256/SHA-256 signatures.
//!
//! Scalars and ECDSA come from the pure-Rust `p256` crate everywhere. Point arithmetic comes from
//! OpenSSL's assembly-backed P-256 on native targets (about 3× faster than the pure-Rust crate on
//! the reference machine) and from the `p256` crate in the browser (wasm32). Both backends are
//! compiled in native test builds and checked against each other (`tests` below) and against the
//! checked-in vectors.

use p256::ecdsa::signature::RandomizedSigner;
#[cfg(target_arch = "wasm32")]
use p256::ecdsa::signature::Verifier;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::{Field, PrimeField};
use p256::{FieldBytes, U256};
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, Zeroizing};

use super::{SecretScalar, Suite, SuiteId};
use crate::error::DecodeError;

#[cfg(not(target_arch = "wasm32"))]
#[path = "p256_openssl.rs"]
mod backend;

#[cfg(target_arch = "wasm32")]
#[path = "p256_rustcrypto.rs"]
mod backend;

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "p256_rustcrypto.rs"]
mod backend_rustcrypto;

/// The P-256 suite.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct P256;

/// A P-256 scalar. Zeroized on drop; `Debug` never shows the value.
#[derive(Clone)]
pub struct P256Scalar(pub(crate) p256::Scalar);

impl Zeroize for P256Scalar {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for P256Scalar {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl core::fmt::Debug for P256Scalar {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("P256Scalar").finish_non_exhaustive()
    }
}

impl SecretScalar for P256Scalar {}

/// A validated P-256 point.
pub type P256Element = backend::Point;

fn scalar_bytes(s: &P256Scalar) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(s.0.to_repr().into())
}

impl Suite for P256 {
    const ID: SuiteId = SuiteId::P256;
    const POINT_LEN: usize = 33;
    const SIG_PUBLIC_LEN: usize = 33;

    type Scalar = P256Scalar;
    type Point = P256Element;
    type SigningKey = p256::ecdsa::SigningKey;
    type VerifyingKey = p256::ecdsa::VerifyingKey;

    fn random_scalar(rng: &mut impl CryptoRngCore) -> P256Scalar {
        loop {
            let s = p256::Scalar::random(&mut *rng);
            if !bool::from(s.is_zero()) {
                return P256Scalar(s);
            }
        }
    }

    fn scalar_from_bytes(bytes: &[u8]) -> Result<P256Scalar, DecodeError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| DecodeError::InvalidScalar)?;
        let s: Option<p256::Scalar> = p256::Scalar::from_repr(FieldBytes::from(arr)).into();
        match s {
            Some(s) if !bool::from(s.is_zero()) => Ok(P256Scalar(s)),
            _ => Err(DecodeError::InvalidScalar),
        }
    }

    fn scalar_to_bytes(s: &P256Scalar) -> [u8; 32] {
        *scalar_bytes(s)
    }

    fn scalar_from_wide(bytes: &[u8; 64]) -> P256Scalar {
        // value = hi·2^256 + lo (big-endian), reduced modulo n with the crate's own reduction.
        let hi = <p256::Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(&bytes[..32]));
        let lo = <p256::Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(&bytes[32..]));
        let two_256 = p256::Scalar::from(2u64).pow_vartime(&[256u64]);
        P256Scalar(hi * two_256 + lo)
    }

    fn scalar_add(a: &P256Scalar, b: &P256Scalar) -> P256Scalar {
        P256Scalar(a.0 + b.0)
    }

    fn scalar_mul(a: &P256Scalar, b: &P256Scalar) -> P256Scalar {
        P256Scalar(a.0 * b.0)
    }

    fn scalar_neg(a: &P256Scalar) -> P256Scalar {
        P256Scalar(-a.0)
    }

    fn scalar_eq(a: &P256Scalar, b: &P256Scalar) -> bool {
        use subtle::ConstantTimeEq;
        a.0.ct_eq(&b.0).into()
    }

    fn scalar_from_u64(v: u64) -> P256Scalar {
        P256Scalar(p256::Scalar::from(v))
    }

    fn point_from_bytes(bytes: &[u8]) -> Result<P256Element, DecodeError> {
        // Only the 33-byte SEC1 compressed form is accepted: one encoding per point.
        if bytes.len() != 33 || !(bytes[0] == 0x02 || bytes[0] == 0x03) {
            return Err(DecodeError::InvalidPoint);
        }
        backend::Point::decode_compressed(bytes).ok_or(DecodeError::InvalidPoint)
    }

    fn point_to_bytes(p: &P256Element) -> Vec<u8> {
        p.encode_compressed()
    }

    fn generator() -> P256Element {
        backend::Point::generator()
    }

    fn mul_base(s: &P256Scalar) -> P256Element {
        backend::Point::mul_base(&scalar_bytes(s))
    }

    fn mul(q: &P256Element, s: &P256Scalar) -> P256Element {
        q.mul(&scalar_bytes(s))
    }

    fn mul2(q: &P256Element, a: &P256Scalar, r: &P256Element, b: &P256Scalar) -> P256Element {
        q.mul(&scalar_bytes(a)).add(&r.mul(&scalar_bytes(b)))
    }

    fn mul_base_add_vartime(a: &P256Scalar, q: &P256Element, b: &P256Scalar) -> P256Element {
        backend::Point::mul_base_add(&scalar_bytes(a), q, &scalar_bytes(b))
    }

    fn multiscalar_mul_vartime(terms: &[(&P256Scalar, &P256Element)]) -> P256Element {
        backend::Point::sum_of_products_vartime(
            &terms
                .iter()
                .map(|(s, p)| (scalar_bytes(s), *p))
                .collect::<Vec<_>>(),
        )
    }

    fn add(q: &P256Element, r: &P256Element) -> P256Element {
        q.add(r)
    }

    fn sub(q: &P256Element, r: &P256Element) -> P256Element {
        q.add(&r.neg())
    }

    fn is_identity(q: &P256Element) -> bool {
        q.is_identity()
    }

    fn lift_x(x: &[u8]) -> Option<(P256Element, P256Element)> {
        if x.len() != 32 {
            return None;
        }
        let mut enc = [0u8; 33];
        enc[0] = 0x02;
        enc[1..].copy_from_slice(x);
        let even = backend::Point::decode_compressed(&enc)?;
        let odd = even.neg();
        Some((even, odd))
    }

    fn x_coordinate(q: &P256Element) -> Option<Vec<u8>> {
        if q.is_identity() {
            return None;
        }
        Some(q.encode_compressed()[1..].to_vec())
    }

    fn signing_key_generate(rng: &mut impl CryptoRngCore) -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::random(rng)
    }

    fn signing_key_from_bytes(bytes: &[u8]) -> Result<p256::ecdsa::SigningKey, DecodeError> {
        if bytes.len() != 32 {
            return Err(DecodeError::InvalidKey);
        }
        p256::ecdsa::SigningKey::from_bytes(FieldBytes::from_slice(bytes))
            .map_err(|_| DecodeError::InvalidKey)
    }

    fn signing_key_to_bytes(sk: &p256::ecdsa::SigningKey) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(sk.to_bytes().into())
    }

    fn verifying_key(sk: &p256::ecdsa::SigningKey) -> p256::ecdsa::VerifyingKey {
        *sk.verifying_key()
    }

    fn verifying_key_from_bytes(bytes: &[u8]) -> Result<p256::ecdsa::VerifyingKey, DecodeError> {
        // Only SEC1 compressed (0x02/0x03): one encoding per key, so re-encoding any decoded
        // object reproduces its bytes (the crate would also accept the 0x05 "compact" form).
        if bytes.len() != 33 || !(bytes[0] == 0x02 || bytes[0] == 0x03) {
            return Err(DecodeError::InvalidKey);
        }
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map_err(|_| DecodeError::InvalidKey)?;
        if Self::verifying_key_to_bytes(&vk) != bytes {
            return Err(DecodeError::InvalidKey);
        }
        Ok(vk)
    }

    fn verifying_key_to_bytes(vk: &p256::ecdsa::VerifyingKey) -> Vec<u8> {
        vk.to_encoded_point(true).as_bytes().to_vec()
    }

    fn sign(sk: &p256::ecdsa::SigningKey, msg: &[u8], rng: &mut impl CryptoRngCore) -> [u8; 64] {
        let sig: p256::ecdsa::Signature = sk.sign_with_rng(rng, msg);
        // Low-S form, so that every message has one accepted signature encoding per nonce.
        let sig = sig.normalize_s().unwrap_or(sig);
        sig.to_bytes().into()
    }

    fn verify(vk: &p256::ecdsa::VerifyingKey, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = p256::ecdsa::Signature::from_slice(sig) else {
            return false;
        };
        if sig.normalize_s().is_some() {
            return false; // high-S: not produced by us, rejected to avoid malleability
        }
        // Verification is deterministic, so the faster OpenSSL path gives the same answer as
        // the pure-Rust one (checked by `ecdsa_backends_agree` below).
        #[cfg(not(target_arch = "wasm32"))]
        {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(msg);
            let (r, s) = sig.split_bytes();
            backend::ecdsa_verify(vk.to_encoded_point(false).as_bytes(), &digest, &r, &s)
        }
        #[cfg(target_arch = "wasm32")]
        {
            vk.verify(msg, &sig).is_ok()
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    //! The OpenSSL backend and the pure-Rust backend (used in the browser) must agree.
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn openssl_and_rustcrypto_backends_agree() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        for _ in 0..32 {
            let a = P256::random_scalar(&mut rng);
            let b = P256::random_scalar(&mut rng);
            let ab = scalar_bytes(&a);
            let bb = scalar_bytes(&b);
            let o = backend::Point::mul_base(&ab);
            let r = backend_rustcrypto::Point::mul_base(&ab);
            assert_eq!(o.encode_compressed(), r.encode_compressed());
            let o2 = o.mul(&bb).add(&o.neg().mul(&ab));
            let r2 = r.mul(&bb).add(&r.neg().mul(&ab));
            assert_eq!(o2.encode_compressed(), r2.encode_compressed());
            let enc = o2.encode_compressed();
            let back_o = backend::Point::decode_compressed(&enc).expect("valid");
            let back_r = backend_rustcrypto::Point::decode_compressed(&enc).expect("valid");
            assert_eq!(back_o.encode_compressed(), back_r.encode_compressed());
        }
    }

    #[test]
    fn ecdsa_backends_agree() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
        let sk = P256::signing_key_generate(&mut rng);
        let vk = P256::verifying_key(&sk);
        for i in 0..16u8 {
            let msg = [i; 40];
            let sig = P256::sign(&sk, &msg, &mut rng);
            let parsed = p256::ecdsa::Signature::from_slice(&sig).expect("sig");
            assert!(vk.verify(&msg, &parsed).is_ok());
            assert!(P256::verify(&vk, &msg, &sig));
            let mut bad = sig;
            bad[usize::from(i) % 64] ^= 1;
            let pure = p256::ecdsa::Signature::from_slice(&bad)
                .map(|b| vk.verify(&msg, &b).is_ok())
                .unwrap_or(false);
            assert_eq!(P256::verify(&vk, &msg, &bad), pure && bad_is_low_s(&bad));
            assert!(!P256::verify(&vk, &[i ^ 1; 40], &sig));
        }
    }

    fn bad_is_low_s(sig: &[u8]) -> bool {
        p256::ecdsa::Signature::from_slice(sig)
            .map(|s| s.normalize_s().is_none())
            .unwrap_or(false)
    }

    #[test]
    fn backends_agree_on_which_x_coordinates_are_on_the_curve() {
        // About half of all x values have no point; both backends must reject the same ones.
        let mut rejected = 0;
        for x in 1u8..=64 {
            let mut enc = [0u8; 33];
            enc[0] = 2;
            enc[32] = x;
            let o = backend::Point::decode_compressed(&enc).map(|p| p.encode_compressed());
            let r =
                backend_rustcrypto::Point::decode_compressed(&enc).map(|p| p.encode_compressed());
            assert_eq!(o, r, "x = {x}");
            rejected += usize::from(o.is_none());
        }
        assert!(rejected > 10 && rejected < 54, "{rejected} of 64 rejected");
    }
}
