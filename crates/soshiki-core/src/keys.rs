//! Member keys and key holders.
//!
//! A member has two key pairs of its suite: the **encryption key** `a` (ElGamal; public
//! `A = a·P`) that capsules are encrypted to and that re-encrypts, and a **signing key** of the
//! suite's standard scheme (ECDSA P-256 / Ed25519) for signatures on envelopes and hops.
//!
//! [`KeyHolder`] abstracts where `a` lives: a file key (this module's [`SecretKey`]), a smart card
//! or PKCS#11 token, or a non-extractable WebCrypto key. A holder that can only return the
//! x-coordinate of `a·Q` (plain ECDH) still works: see [`resolve_dh`].

use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::error::DecodeError;
use crate::suite::Suite;

/// An ElGamal secret key `a`. Zeroized on drop; `Debug` does not show it.
pub struct SecretKey<S: Suite> {
    pub(crate) scalar: S::Scalar,
    public: PublicKey<S>,
}

impl<S: Suite> core::fmt::Debug for SecretKey<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SecretKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl<S: Suite> Clone for SecretKey<S> {
    fn clone(&self) -> Self {
        Self {
            scalar: self.scalar.clone(),
            public: self.public.clone(),
        }
    }
}

impl<S: Suite> SecretKey<S> {
    /// Generate a fresh key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self::from_scalar(S::random_scalar(rng))
    }

    pub(crate) fn from_scalar(scalar: S::Scalar) -> Self {
        let public = PublicKey::from_point(S::mul_base(&scalar));
        Self { scalar, public }
    }

    /// Decode from the 32-byte scalar encoding.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self::from_scalar(S::scalar_from_bytes(bytes)?))
    }

    /// Export the secret scalar. The only way out; the caller must protect the result.
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(S::scalar_to_bytes(&self.scalar))
    }

    /// The public key `A = a·P`.
    pub fn public_key(&self) -> &PublicKey<S> {
        &self.public
    }
}

/// An ElGamal public key `A = a·P`, with its encoding kept (hop statements and certificates
/// encode keys often, and encoding costs a field inversion).
#[derive(Clone)]
pub struct PublicKey<S: Suite> {
    pub(crate) point: S::Point,
    encoded: Vec<u8>,
}

impl<S: Suite> PartialEq for PublicKey<S> {
    fn eq(&self, other: &Self) -> bool {
        // Encodings are canonical: equal points have equal encodings.
        self.encoded == other.encoded
    }
}

impl<S: Suite> Eq for PublicKey<S> {}

impl<S: Suite> core::fmt::Debug for PublicKey<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PublicKey({})", hex::encode(&self.encoded))
    }
}

impl<S: Suite> PublicKey<S> {
    /// Decode and validate.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            point: S::point_from_bytes(bytes)?,
            encoded: bytes.to_vec(),
        })
    }

    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encoded.clone()
    }

    /// The encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.encoded
    }

    /// The group element.
    pub fn point(&self) -> &S::Point {
        &self.point
    }

    /// Wrap a validated point.
    pub fn from_point(point: S::Point) -> Self {
        let encoded = S::point_to_bytes(&point);
        Self { point, encoded }
    }
}

/// A signing key of the suite's standard scheme. Zeroized on drop (by the underlying crate).
pub struct SigningKey<S: Suite> {
    pub(crate) inner: S::SigningKey,
}

impl<S: Suite> core::fmt::Debug for SigningKey<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("verifying_key", &self.verifying_key())
            .finish_non_exhaustive()
    }
}

impl<S: Suite> SigningKey<S> {
    /// Generate.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self {
            inner: S::signing_key_generate(rng),
        }
    }

    /// Decode from its 32-byte secret encoding.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            inner: S::signing_key_from_bytes(bytes)?,
        })
    }

    /// Export (secret).
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        S::signing_key_to_bytes(&self.inner)
    }

    /// The verification key.
    pub fn verifying_key(&self) -> VerifyingKey<S> {
        VerifyingKey {
            inner: S::verifying_key(&self.inner),
        }
    }

    /// Sign `msg` (already domain-separated by the caller).
    pub fn sign(&self, msg: &[u8], rng: &mut impl CryptoRngCore) -> [u8; 64] {
        S::sign(&self.inner, msg, rng)
    }
}

/// A signature verification key.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey<S: Suite> {
    pub(crate) inner: S::VerifyingKey,
}

impl<S: Suite> core::fmt::Debug for VerifyingKey<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "VerifyingKey({})", hex::encode(self.to_bytes()))
    }
}

impl<S: Suite> VerifyingKey<S> {
    /// Decode.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            inner: S::verifying_key_from_bytes(bytes)?,
        })
    }

    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        S::verifying_key_to_bytes(&self.inner)
    }

    /// Verify; `false` on any failure. Repeats of a signature that verified are answered from
    /// a bounded memo ([`crate::verified`]).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        crate::verified::memoized(S::ID.to_u16(), &self.to_bytes(), msg, sig, || {
            S::verify(&self.inner, msg, sig)
        })
    }
}

/// What a key holder returns for `a·Q`.
#[derive(Debug, Clone)]
pub enum DhOutput<S: Suite> {
    /// The whole point (file keys).
    Point(S::Point),
    /// Only the affine x-coordinate (ECDH on cards, tokens, WebCrypto). P-256 only.
    XCoordinate(Vec<u8>),
}

/// Anything that holds an encryption secret `a` and can compute with it.
///
/// Implemented by [`SecretKey`] (file keys). A smart card, PKCS#11 token or WebCrypto key
/// implements [`KeyHolder::diffie_hellman`] with its ECDH primitive and returns `None` from
/// [`KeyHolder::secret_key`]; such holders decrypt and forward, but their hops carry a signature
/// instead of a proof.
///
/// The trait is synchronous. Asynchronous holders (WebCrypto's `deriveBits` returns a promise,
/// a remote HSM answers over the network) compute their ECDH results first — the points they
/// need are public: each capsule's `C2`, and `C2 + P` for sign resolution — and hand them in
/// through a holder that answers from those precomputed results.
pub trait KeyHolder<S: Suite> {
    /// The holder's public key `A`.
    fn public_key(&self) -> PublicKey<S>;
    /// `a·Q` (or only its x-coordinate).
    fn diffie_hellman(&self, q: &S::Point) -> Result<DhOutput<S>, String>;
    /// The secret scalar, for holders that can make re-encryption proofs.
    fn secret_key(&self) -> Option<&SecretKey<S>> {
        None
    }
}

impl<S: Suite> KeyHolder<S> for SecretKey<S> {
    fn public_key(&self) -> PublicKey<S> {
        self.public.clone()
    }

    fn diffie_hellman(&self, q: &S::Point) -> Result<DhOutput<S>, String> {
        Ok(DhOutput::Point(S::mul(q, &self.scalar)))
    }

    fn secret_key(&self) -> Option<&SecretKey<S>> {
        Some(self)
    }
}

/// Compute the full point `a·Q` with any key holder.
///
/// For an x-only holder the sign is resolved with a second call: `x(a·(Q + P)) = x(a·Q + A)`,
/// and `A` is public, so exactly one of the two lifts `±Y` of `x(a·Q)` satisfies
/// `x(Y + A) = x(a·(Q + P))` (BRIEF.md, security notes).
pub fn resolve_dh<S: Suite>(holder: &dyn KeyHolder<S>, q: &S::Point) -> Result<S::Point, String> {
    match holder.diffie_hellman(q)? {
        DhOutput::Point(p) => Ok(p),
        DhOutput::XCoordinate(x) => {
            let (y_even, y_odd) =
                S::lift_x(&x).ok_or("key holder returned an invalid x-coordinate")?;
            let q_plus_p = S::add(q, &S::generator());
            let x2 = match holder.diffie_hellman(&q_plus_p)? {
                DhOutput::XCoordinate(x2) => x2,
                DhOutput::Point(p) => S::x_coordinate(&p).ok_or("identity")?,
            };
            let a = holder.public_key();
            let matches =
                |y: &S::Point| S::x_coordinate(&S::add(y, &a.point)).as_deref() == Some(&x2[..]);
            match (matches(&y_even), matches(&y_odd)) {
                (true, false) => Ok(y_even),
                (false, true) => Ok(y_odd),
                _ => Err("key holder's ECDH results are inconsistent".into()),
            }
        }
    }
}

/// A key holder that exposes only ECDH x-coordinates, like a smart card or WebCrypto key.
/// Used in tests and as the reference for hardware integrations.
pub struct EcdhOnlyKey<S: Suite> {
    key: SecretKey<S>,
}

impl<S: Suite> core::fmt::Debug for EcdhOnlyKey<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EcdhOnlyKey")
            .field("public", self.key.public_key())
            .finish_non_exhaustive()
    }
}

impl<S: Suite> EcdhOnlyKey<S> {
    /// Wrap a secret so that only ECDH x-coordinates come out.
    pub fn new(key: SecretKey<S>) -> Self {
        Self { key }
    }
}

impl<S: Suite> KeyHolder<S> for EcdhOnlyKey<S> {
    fn public_key(&self) -> PublicKey<S> {
        self.key.public.clone()
    }

    fn diffie_hellman(&self, q: &S::Point) -> Result<DhOutput<S>, String> {
        let p = S::mul(q, &self.key.scalar);
        S::x_coordinate(&p)
            .map(DhOutput::XCoordinate)
            .ok_or_else(|| format!("suite {} has no x-only ECDH", S::ID))
    }
}
