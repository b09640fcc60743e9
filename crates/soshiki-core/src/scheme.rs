//! The scheme of the source documents, exactly (BRIEF.md "The scheme"; SPEC.md §4).
//!
//! ```text
//! Encrypt to A:        C = (C1, C2) = (M + r1·A, r1·P)
//! Decrypt by A:        M = C1 − a·C2
//! Re-encrypt A → B:    X = a·C2 − r2·B,  C2' = r2·P,  C1' = C1 − X     (= M + r2·B)
//! ```
//!
//! Model 1 (the forwarder holds C and a) is [`reencrypt_whole`]. Model 2 splits it: the
//! forwarder, given only C2, makes a [`ReencryptionShare`] with [`make_share`]; a keyless
//! combiner checks it with [`ReencryptionShare::verify`] and applies it with
//! [`VerifiedShare::combine`]. Nothing on the combiner's path takes a secret key.
//!
//! The proof is a Fiat–Shamir sigma protocol (Chaum–Pedersen style) for the relation
//! `{(a, r2) : A = a·P ∧ C2' = r2·P ∧ X = a·C2 − r2·B}`, with the challenge bound to the hop's
//! [`HopContext`] (envelope, slot, hop number, both certificates, time). Because it proves
//! knowledge of `a` for the forwarder's certified `A` over that context, it is also the hop's
//! signature.

use rand_core::CryptoRngCore;

use crate::envelope::slot::SlotId;
use crate::error::{DecodeError, VerifyError};
use crate::hash::hash_to_scalar;
use crate::keys::{resolve_dh, KeyHolder, PublicKey, SecretKey};
use crate::suite::Suite;
use crate::wire::{Reader, Writer};

/// An ElGamal ciphertext of a point: `(C1, C2)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capsule<S: Suite> {
    /// `C1 = M + r·A`
    pub c1: S::Point,
    /// `C2 = r·P`
    pub c2: S::Point,
}

impl<S: Suite> Capsule<S> {
    /// Encode: `C1 ‖ C2`.
    pub fn write(&self, w: &mut Writer) {
        w.point::<S>(&self.c1).point::<S>(&self.c2);
    }

    /// Decode and validate both points.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            c1: r.point::<S>("capsule C1")?,
            c2: r.point::<S>("capsule C2")?,
        })
    }
}

/// Encrypt the point `m` to `to`: `(M + r1·A, r1·P)`.
pub fn encrypt_point<S: Suite>(
    m: &S::Point,
    to: &PublicKey<S>,
    rng: &mut impl CryptoRngCore,
) -> Capsule<S> {
    hazmat::encrypt_point_with_r(m, to, &S::random_scalar(rng))
}

/// Decrypt a capsule with any key holder: `M = C1 − a·C2`.
pub fn decrypt_point<S: Suite>(
    capsule: &Capsule<S>,
    holder: &dyn KeyHolder<S>,
) -> Result<S::Point, String> {
    let d = resolve_dh(holder, &capsule.c2)?;
    Ok(S::sub(&capsule.c1, &d))
}

/// What a hop's proof or signature is bound to (SPEC.md §4.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HopContext {
    /// The envelope's identifier.
    pub envelope_id: [u8; 16],
    /// The slot (the metadata's or a part's).
    pub slot: SlotId,
    /// The hop number in this slot's chain, from 1.
    pub hop_index: u16,
    /// Fingerprint of the forwarder's certificate (which certifies `A`).
    pub forwarder_cert: crate::cert::Fingerprint,
    /// Fingerprint of the target's certificate (which certifies `B`).
    pub target_cert: crate::cert::Fingerprint,
    /// Seconds since the Unix epoch, as stated by the forwarder.
    pub time: u64,
}

/// The public statement of one hop.
#[derive(Clone, Debug)]
pub struct HopStatement<'a, S: Suite> {
    /// Binding context.
    pub context: &'a HopContext,
    /// Forwarder's key `A`.
    pub from: &'a PublicKey<S>,
    /// Target's key `B`.
    pub to: &'a PublicKey<S>,
    /// The `C2` that was re-encrypted.
    pub c2: &'a S::Point,
}

impl<S: Suite> HopStatement<'_, S> {
    /// `suite ‖ envelope id ‖ slot ‖ hop ‖ forwarder cert ‖ target cert ‖ time ‖ A ‖ B ‖ C2 ‖ C2' ‖ X`
    pub(crate) fn encode(&self, c2_new: &S::Point, x: &S::Point) -> Vec<u8> {
        let mut w = Writer::new();
        let c = self.context;
        w.suite(S::ID)
            .raw(&c.envelope_id)
            .u32(c.slot.to_wire())
            .u16(c.hop_index)
            .raw(&c.forwarder_cert.0)
            .raw(&c.target_cert.0)
            .u64(c.time)
            .raw(self.from.as_bytes())
            .raw(self.to.as_bytes())
            .point::<S>(self.c2)
            .point::<S>(c2_new)
            .point::<S>(x);
        w.into_bytes()
    }
}

/// How a hop is authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HopAuth<S: Suite> {
    /// A sigma proof of correct re-encryption (holders that know `a`).
    Proof(HopProof<S>),
    /// A signature by the forwarder's signing key (ECDH-only holders; no correctness proof, the
    /// reader's key commitment catches a wrong hop).
    Signature([u8; 64]),
}

/// The sigma proof `(e, s1, s2)`.
#[derive(Clone)]
pub struct HopProof<S: Suite> {
    e: S::Scalar,
    s1: S::Scalar,
    s2: S::Scalar,
}

impl<S: Suite> PartialEq for HopProof<S> {
    fn eq(&self, o: &Self) -> bool {
        S::scalar_eq(&self.e, &o.e)
            && S::scalar_eq(&self.s1, &o.s1)
            && S::scalar_eq(&self.s2, &o.s2)
    }
}
impl<S: Suite> Eq for HopProof<S> {}

impl<S: Suite> core::fmt::Debug for HopProof<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Proof scalars are public.
        write!(
            f,
            "HopProof(e={}, s1={}, s2={})",
            hex::encode(S::scalar_to_bytes(&self.e)),
            hex::encode(S::scalar_to_bytes(&self.s1)),
            hex::encode(S::scalar_to_bytes(&self.s2))
        )
    }
}

impl<S: Suite> HopProof<S> {
    /// Encode: `e ‖ s1 ‖ s2`, 96 bytes.
    pub fn write(&self, w: &mut Writer) {
        w.scalar::<S>(&self.e)
            .scalar::<S>(&self.s1)
            .scalar::<S>(&self.s2);
    }

    /// Decode.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            e: r.scalar::<S>("proof e")?,
            s1: r.scalar::<S>("proof s1")?,
            s2: r.scalar::<S>("proof s2")?,
        })
    }
}

const PROOF_LABEL: &str = "hop-proof";
const HOP_SIGNATURE_LABEL: &[u8] = b"soshiki/v1/hop-signature";

fn challenge<S: Suite>(statement: &[u8], t1: &S::Point, t2: &S::Point, t3: &S::Point) -> S::Scalar {
    hash_to_scalar::<S>(
        PROOF_LABEL,
        &[
            statement,
            &S::point_to_bytes(t1),
            &S::point_to_bytes(t2),
            &S::point_to_bytes(t3),
        ],
    )
}

/// The message a signed hop signs.
pub(crate) fn hop_signature_message(statement: &[u8]) -> Vec<u8> {
    let mut m = HOP_SIGNATURE_LABEL.to_vec();
    m.extend_from_slice(statement);
    m
}

/// What a forwarder returns in the split model: `(X, C2', authentication)`. Unverified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReencryptionShare<S: Suite> {
    /// `X = a·C2 − r2·B`
    pub x: S::Point,
    /// `C2' = r2·P`
    pub c2_new: S::Point,
    /// Proof or signature.
    pub auth: HopAuth<S>,
}

/// A share whose proof (or signature) has been checked against its statement.
#[derive(Clone, Debug)]
pub struct VerifiedShare<S: Suite> {
    share: ReencryptionShare<S>,
}

/// Make a re-encryption share (model 2, the forwarder's side). `holder` is the forwarder's key;
/// it must be the key `statement.from`. Holders that expose their scalar produce a proof; others
/// sign with `signer`.
pub fn make_share<S: Suite>(
    statement: &HopStatement<'_, S>,
    holder: &dyn KeyHolder<S>,
    signer: Option<&crate::keys::SigningKey<S>>,
    rng: &mut impl CryptoRngCore,
) -> Result<ReencryptionShare<S>, String> {
    if holder.public_key() != *statement.from {
        return Err("the forwarding key is not the statement's key A".into());
    }
    let r2 = S::random_scalar(rng);
    match holder.secret_key() {
        Some(sk) => {
            let (k1, k2) = (S::random_scalar(rng), S::random_scalar(rng));
            Ok(hazmat::share_with_proof(statement, sk, &r2, &k1, &k2))
        }
        None => {
            let signer = signer.ok_or("this key holder needs a signing key to sign its hop")?;
            let d = resolve_dh(holder, statement.c2)?;
            let x = S::sub(&d, &S::mul(&statement.to.point, &r2));
            let c2_new = S::mul_base(&r2);
            let msg = hop_signature_message(&statement.encode(&c2_new, &x));
            Ok(ReencryptionShare {
                x,
                c2_new,
                auth: HopAuth::Signature(signer.sign(&msg, rng)),
            })
        }
    }
}

impl<S: Suite> ReencryptionShare<S> {
    /// Check the share against its statement. A proof hop needs nothing else; a signed hop needs
    /// the forwarder's certified verification key.
    pub fn verify(
        self,
        statement: &HopStatement<'_, S>,
        forwarder_signing_key: Option<&crate::keys::VerifyingKey<S>>,
    ) -> Result<VerifiedShare<S>, VerifyError> {
        let ok = match &self.auth {
            HopAuth::Proof(p) => verify_proof(statement, &self.x, &self.c2_new, p),
            HopAuth::Signature(sig) => match forwarder_signing_key {
                Some(vk) => vk.verify(
                    &hop_signature_message(&statement.encode(&self.c2_new, &self.x)),
                    sig,
                ),
                None => false,
            },
        };
        if ok && !S::is_identity(&self.x) && !S::is_identity(&self.c2_new) {
            Ok(VerifiedShare { share: self })
        } else {
            Err(VerifyError::ShareProof)
        }
    }
}

fn verify_proof<S: Suite>(
    st: &HopStatement<'_, S>,
    x: &S::Point,
    c2_new: &S::Point,
    p: &HopProof<S>,
) -> bool {
    // T1 = s1·P − e·A,  T2 = s2·P − e·C2',  T3 = s1·C2 − s2·B − e·X
    let neg_e = S::scalar_neg(&p.e);
    let neg_s2 = S::scalar_neg(&p.s2);
    let t1 = S::mul_base_add_vartime(&p.s1, &st.from.point, &neg_e);
    let t2 = S::mul_base_add_vartime(&p.s2, c2_new, &neg_e);
    let t3 = S::multiscalar_mul_vartime(&[(&p.s1, st.c2), (&neg_s2, &st.to.point), (&neg_e, x)]);
    let e = challenge::<S>(&st.encode(c2_new, x), &t1, &t2, &t3);
    S::scalar_eq(&e, &p.e)
}

impl<S: Suite> VerifiedShare<S> {
    /// The combiner's step: `C1' = C1 − X`, `C2' = r2·P`. Takes no key.
    pub fn combine(&self, c1: &S::Point) -> Capsule<S> {
        Capsule {
            c1: S::sub(c1, &self.share.x),
            c2: self.share.c2_new.clone(),
        }
    }

    /// The verified share.
    pub fn share(&self) -> &ReencryptionShare<S> {
        &self.share
    }

    /// Unwrap.
    pub fn into_share(self) -> ReencryptionShare<S> {
        self.share
    }
}

/// Model 1: the forwarder holds the whole capsule and its key and re-encrypts it itself. The
/// result carries the same share (with proof) as model 2, so hops look alike on the wire.
pub fn reencrypt_whole<S: Suite>(
    capsule: &Capsule<S>,
    statement: &HopStatement<'_, S>,
    holder: &dyn KeyHolder<S>,
    signer: Option<&crate::keys::SigningKey<S>>,
    rng: &mut impl CryptoRngCore,
) -> Result<(Capsule<S>, ReencryptionShare<S>), String> {
    if statement.c2 != &capsule.c2 {
        return Err("statement does not name this capsule's C2".into());
    }
    let share = make_share(statement, holder, signer, rng)?;
    let c = Capsule {
        c1: S::sub(&capsule.c1, &share.x),
        c2: share.c2_new.clone(),
    };
    Ok((c, share))
}

/// The bare formulas with caller-chosen randomness, for test vectors and audits.
/// Never reuse `r1`, `r2`, `k1`, `k2`; use the functions above in applications.
pub mod hazmat {
    use super::*;

    /// `(M + r1·A, r1·P)`
    pub fn encrypt_point_with_r<S: Suite>(
        m: &S::Point,
        to: &PublicKey<S>,
        r1: &S::Scalar,
    ) -> Capsule<S> {
        Capsule {
            c1: S::add(m, &S::mul(&to.point, r1)),
            c2: S::mul_base(r1),
        }
    }

    /// `M = C1 − a·C2`
    pub fn decrypt_point_with_key<S: Suite>(c: &Capsule<S>, a: &SecretKey<S>) -> S::Point {
        S::sub(&c.c1, &S::mul(&c.c2, &a.scalar))
    }

    /// `X = a·C2 − r2·B`, `C2' = r2·P`
    pub fn split_with_r<S: Suite>(
        c2: &S::Point,
        a: &SecretKey<S>,
        to: &PublicKey<S>,
        r2: &S::Scalar,
    ) -> (S::Point, S::Point) {
        let x = S::mul2(c2, &a.scalar, &to.point, &S::scalar_neg(r2));
        (x, S::mul_base(r2))
    }

    /// A proof share with caller-chosen `r2`, `k1`, `k2`.
    pub fn share_with_proof<S: Suite>(
        st: &HopStatement<'_, S>,
        a: &SecretKey<S>,
        r2: &S::Scalar,
        k1: &S::Scalar,
        k2: &S::Scalar,
    ) -> ReencryptionShare<S> {
        let (x, c2_new) = split_with_r(st.c2, a, st.to, r2);
        let t1 = S::mul_base(k1);
        let t2 = S::mul_base(k2);
        let t3 = S::mul2(st.c2, k1, &st.to.point, &S::scalar_neg(k2));
        let e = challenge::<S>(&st.encode(&c2_new, &x), &t1, &t2, &t3);
        let s1 = S::scalar_add(k1, &S::scalar_mul(&e, &a.scalar));
        let s2 = S::scalar_add(k2, &S::scalar_mul(&e, r2));
        ReencryptionShare {
            x,
            c2_new,
            auth: HopAuth::Proof(HopProof { e, s1, s2 }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::EcdhOnlyKey;
    use crate::suite::{Ristretto255, P256};
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn ctx(hop: u16) -> HopContext {
        HopContext {
            envelope_id: [7; 16],
            slot: SlotId::part(0).expect("part 0"),
            hop_index: hop,
            forwarder_cert: crate::cert::Fingerprint([1; 32]),
            target_cert: crate::cert::Fingerprint([2; 32]),
            time: 1,
        }
    }

    fn slides_hold<S: Suite>() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let a = SecretKey::<S>::generate(&mut rng);
        let b = SecretKey::<S>::generate(&mut rng);
        let m = S::mul_base(&S::random_scalar(&mut rng));
        let c = encrypt_point(&m, a.public_key(), &mut rng);
        assert_eq!(hazmat::decrypt_point_with_key(&c, &a), m);
        let cx = ctx(1);
        let st = HopStatement {
            context: &cx,
            from: a.public_key(),
            to: b.public_key(),
            c2: &c.c2,
        };
        let share = make_share(&st, &a, None, &mut rng).expect("share");
        let verified = share.verify(&st, None).expect("proof verifies");
        let c_b = verified.combine(&c.c1);
        assert_eq!(hazmat::decrypt_point_with_key(&c_b, &b), m);
        assert_ne!(hazmat::decrypt_point_with_key(&c_b, &a), m);
    }

    #[test]
    fn slide_formulas_hold_p256() {
        slides_hold::<P256>();
    }

    #[test]
    fn slide_formulas_hold_ristretto() {
        slides_hold::<Ristretto255>();
    }

    fn proof_binds<S: Suite>() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let a = SecretKey::<S>::generate(&mut rng);
        let b = SecretKey::<S>::generate(&mut rng);
        let evil = SecretKey::<S>::generate(&mut rng);
        let m = S::mul_base(&S::random_scalar(&mut rng));
        let c = encrypt_point(&m, a.public_key(), &mut rng);
        let cx = ctx(1);
        let st = HopStatement {
            context: &cx,
            from: a.public_key(),
            to: b.public_key(),
            c2: &c.c2,
        };
        let share = make_share(&st, &a, None, &mut rng).expect("share");
        // Another target key, hop number, C2 or a tampered X: all rejected.
        let st_evil = HopStatement {
            to: evil.public_key(),
            ..st.clone()
        };
        assert!(share.clone().verify(&st_evil, None).is_err());
        let cx2 = ctx(2);
        let st_hop = HopStatement {
            context: &cx2,
            ..st.clone()
        };
        assert!(share.clone().verify(&st_hop, None).is_err());
        let other_c2 = S::mul_base(&S::random_scalar(&mut rng));
        let st_c2 = HopStatement {
            c2: &other_c2,
            ..st.clone()
        };
        assert!(share.clone().verify(&st_c2, None).is_err());
        let mut bad = share.clone();
        bad.x = S::add(&bad.x, &S::generator());
        assert!(bad.verify(&st, None).is_err());
        // A share made with a key other than A is refused at creation.
        assert!(make_share(&st, &evil, None, &mut rng).is_err());
    }

    #[test]
    fn proof_is_bound_to_statement_p256() {
        proof_binds::<P256>();
    }

    #[test]
    fn proof_is_bound_to_statement_ristretto() {
        proof_binds::<Ristretto255>();
    }

    #[test]
    fn ecdh_only_holder_decrypts_and_forwards_with_signature() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for _ in 0..8 {
            let a = SecretKey::<P256>::generate(&mut rng);
            let sig = crate::keys::SigningKey::<P256>::generate(&mut rng);
            let card = EcdhOnlyKey::new(a.clone());
            let b = SecretKey::<P256>::generate(&mut rng);
            let m = P256::mul_base(&P256::random_scalar(&mut rng));
            let c = encrypt_point(&m, a.public_key(), &mut rng);
            assert_eq!(decrypt_point(&c, &card).expect("ecdh decrypt"), m);
            let cx = ctx(1);
            let st = HopStatement {
                context: &cx,
                from: a.public_key(),
                to: b.public_key(),
                c2: &c.c2,
            };
            let share = make_share(&st, &card, Some(&sig), &mut rng).expect("share");
            assert!(matches!(share.auth, HopAuth::Signature(_)));
            assert!(
                share.clone().verify(&st, None).is_err(),
                "a signed hop needs the forwarder's key"
            );
            let v = share
                .verify(&st, Some(&sig.verifying_key()))
                .expect("signature verifies");
            assert_eq!(hazmat::decrypt_point_with_key(&v.combine(&c.c1), &b), m);
        }
    }
}
